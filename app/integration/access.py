"""A Jira client for an instance, with its stored credentials decrypted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.core.security import SecretBox
from app.integration.models import JiraInstance
from app.jira.auth import AuthMethod
from app.jira.client import JiraClient
from app.jira.pool import JiraClientPool, JiraConnection


def connection_for(instance: JiraInstance, secrets: SecretBox) -> JiraConnection:
    token = secrets.decrypt(instance.api_token_encrypted) if instance.api_token_encrypted else ""
    return JiraConnection(
        base_url=instance.host_name,
        user_name=instance.user_name,
        secret=token,
        auth_method=AuthMethod(instance.auth_method),
    )


@asynccontextmanager
async def jira_client(
    pool: JiraClientPool, instance: JiraInstance, secrets: SecretBox
) -> AsyncIterator[JiraClient]:
    async with pool.lease(instance.id or 0, connection_for(instance, secrets)) as client:
        yield client
