"""The integration's long-lived services (the Jira client pool and the secret box that opens
stored credentials), built once per process and handed to its jobs as `ctx.services`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.security import SecretBox
from app.core.settings import Settings
from app.integration.sync_logs import quota_pause_logger
from app.jira.pool import JiraClientPool, JiraTransport
from app.jobs.context import WorkerContext


@dataclass
class Services:
    jira: JiraClientPool
    secrets: SecretBox


JobContext = WorkerContext[Services]


@asynccontextmanager
async def feature_services(
    settings: Settings,
    jira_transport: JiraTransport | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[Services]:
    """`jira_transport` lets tests route Jira calls to an in-process simulator; with `sessions`
    a quota pause of an instance's Jira is written to its sync logs."""
    options: dict[str, Any] = {"backoff_base": settings.jira_retry_base_seconds}
    if jira_transport is not None:
        options["transport"] = jira_transport
    pool = JiraClientPool.from_settings(settings, **options)
    if sessions is not None:
        pool.on_pause = quota_pause_logger(sessions)
    try:
        yield Services(jira=pool, secrets=SecretBox(settings.secret_key.get_secret_value()))
    finally:
        await pool.aclose()
