"""The integration's long-lived services (the Jira client pool and the secret box that opens
stored credentials), built once per process and handed to its jobs as `ctx.services`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from app.core.security import SecretBox
from app.core.settings import Settings
from app.jira.pool import JiraClientPool, JiraTransport
from app.jobs.context import WorkerContext


@dataclass
class Services:
    jira: JiraClientPool
    secrets: SecretBox


JobContext = WorkerContext[Services]


@asynccontextmanager
async def feature_services(
    settings: Settings, jira_transport: JiraTransport | None = None
) -> AsyncIterator[Services]:
    """`jira_transport` lets tests route Jira calls to an in-process simulator."""
    options: dict[str, Any] = {"backoff_base": settings.jira_retry_base_seconds}
    if jira_transport is not None:
        options["transport"] = jira_transport
    pool = JiraClientPool.from_settings(settings, **options)
    try:
        yield Services(jira=pool, secrets=SecretBox(settings.secret_key.get_secret_value()))
    finally:
        await pool.aclose()
