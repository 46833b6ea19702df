"""Long-lived services features need (the Jira client pool), built once per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from app.core.settings import Settings
from app.jira.pool import JiraClientPool


@dataclass
class Services:
    jira: JiraClientPool


@asynccontextmanager
async def feature_services(
    settings: Settings, jira_transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Services]:
    """`jira_transport` lets tests route Jira calls to an in-process simulator."""
    options: dict[str, Any] = {"backoff_base": settings.jira_retry_base_seconds}
    if jira_transport is not None:
        options["transport"] = jira_transport
    pool = JiraClientPool.from_settings(settings, **options)
    try:
        yield Services(jira=pool)
    finally:
        await pool.aclose()
