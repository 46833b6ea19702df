"""Fixtures for Jira → tickets tests: the simulator, the service app routed to it (no worker
task: tests run the jobs with `tests.support.jobs.drain`) and an HTTP client without the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import structlog

from app.core.settings import Settings
from app.main import create_app
from jirasim import JiraSimulator


@pytest.fixture
def sim(jira_sim: JiraSimulator) -> JiraSimulator:
    return jira_sim


@pytest.fixture
async def service(settings: Settings, db: Any, sim: JiraSimulator) -> AsyncIterator[Any]:
    """The service app with its Jira calls routed to the in-process simulator."""
    application = create_app(settings, jira_transport=httpx.ASGITransport(app=sim.app))
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        # The lifespan configures logging process-wide (level WARNING in tests); later tests
        # that capture debug logs must not inherit it.
        structlog.reset_defaults()


@pytest.fixture
async def http(service: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service)
    async with httpx.AsyncClient(transport=transport, base_url="http://helpdesk.test") as client:
        yield client
