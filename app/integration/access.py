"""A Jira client for an instance, with its stored credentials decrypted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.core.security import SecretBox
from app.integration.models import JiraInstance
from app.integration.services import Services
from app.jira.auth import AuthMethod
from app.jira.client import JiraClient
from app.jira.errors import JiraError, JiraRateLimited
from app.jira.pool import JiraConnection
from app.jobs.kinds import JobError


def connection_for(instance: JiraInstance, secrets: SecretBox) -> JiraConnection:
    token = secrets.decrypt(instance.api_token_encrypted) if instance.api_token_encrypted else ""
    return JiraConnection(
        base_url=instance.host_name,
        user_name=instance.user_name,
        secret=token,
        auth_method=AuthMethod(instance.auth_method),
    )


@asynccontextmanager
async def jira_client(services: Services, instance: JiraInstance) -> AsyncIterator[JiraClient]:
    connection = connection_for(instance, services.secrets)
    async with services.jira.lease(instance.id or 0, connection) as client:
        yield client


def job_error(exc: JiraError) -> JobError:
    """What a failed Jira call means for a job: retried when transient, after the time Jira
    asked for when it rate-limited us."""
    retry_after = exc.retry_after if isinstance(exc, JiraRateLimited) else None
    return JobError(str(exc), transient=exc.transient, retry_after=retry_after)
