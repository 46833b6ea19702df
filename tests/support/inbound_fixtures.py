"""Fixtures for Jira → tickets tests: the simulator, the service app routed to it, a worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import structlog

from app.core.settings import Settings
from app.jobs.worker import Worker
from app.main import create_app
from app.wiring import job_registry
from jirasim import JiraSimulator
from jirasim.state import utc_now
from tests.support.inbound import JIRA_URL


@pytest.fixture(scope="session")
async def shared_sim() -> AsyncIterator[JiraSimulator]:
    simulator = JiraSimulator(seed=True, base_url=JIRA_URL, webhook_retry_delay=0.001)
    yield simulator
    await simulator.aclose()


@pytest.fixture
def sim(shared_sim: JiraSimulator) -> JiraSimulator:
    shared_sim.clock = utc_now
    shared_sim.flavor = "cloud"
    shared_sim.reset(seed=True)
    return shared_sim


@pytest.fixture
async def service(settings: Settings, db: Any, sim: JiraSimulator) -> AsyncIterator[Any]:
    """The service app with its Jira calls routed to the in-process simulator (no worker task:
    tests run the jobs with `drain`)."""
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


async def drain(application: Any) -> int:
    """Run every ready job (and the jobs they queue) to the end."""
    return await Worker(application.state.worker_context, job_registry()).drain()
