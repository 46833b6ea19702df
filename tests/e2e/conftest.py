"""End-to-end harness: the service as a real process (`python -m app serve`, optionally with
separate `python -m app worker` processes) on the test run's database, and the Jira simulator
as a real HTTP server in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from jirasim import JiraSimulator
from tests.conftest import API_TOKEN, SECRET_KEY
from tests.support.live import LiveService, free_port, live_service, service_env

# Short retry delays so the fault scenarios finish quickly; the behaviour is the real one.
FAST_RETRIES = {
    "JOB_RETRY_BASE_SECONDS": "0.05",
    "JOB_RETRY_MAX_SECONDS": "0.2",
    "JIRA_RETRY_BASE_SECONDS": "0.05",
    "JIRA_SEARCH_SETTLE_SECONDS": "0.2",
    "JIRA_LATE_WRITE_SECONDS": "0.2",
    "EVENT_RETRY_BASE_SECONDS": "0.05",
    "EVENT_RETRY_MAX_SECONDS": "0.2",
}


@dataclass
class Jira:
    sim: JiraSimulator
    base_url: str


@pytest.fixture(scope="session")
async def jira_server() -> AsyncIterator[Jira]:
    sim = JiraSimulator(seed=True, base_url="http://placeholder")
    async with sim.serve() as server:
        sim.base_url = server.base_url
        yield Jira(sim, server.base_url)


@pytest.fixture
def jira(jira_server: Jira, jira_flavor: str) -> Jira:
    """The simulator, fresh: Jira Cloud as it is today unless `jira_flavor` says "server"."""
    jira_server.sim.flavor = jira_flavor
    jira_server.sim.reset(seed=True)
    return jira_server


ServiceFactory = Callable[..., AbstractAsyncContextManager[LiveService]]


def factory(database_url: str, workdir: Path) -> ServiceFactory:
    def start(command: str = "serve", **extra: str) -> AbstractAsyncContextManager[LiveService]:
        env = service_env(database_url, free_port(), API_TOKEN, SECRET_KEY, **FAST_RETRIES)
        env.update(extra)
        return live_service(env, workdir, command)

    return start


@pytest.fixture
def start_service(database_url: str, tmp_path: Path, db: Any) -> ServiceFactory:
    """`async with start_service(command="serve", **env) as service:` — a real process."""
    return factory(database_url, tmp_path)


@pytest.fixture(scope="module")
async def shared_service(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveService]:
    """One `python -m app serve` (API + in-process worker) for a module's tests: starting a
    process is the slow part; the database is still emptied before each test (`db`)."""
    async with factory(database_url, tmp_path_factory.mktemp("service"))() as running:
        yield running


@pytest.fixture
def service(shared_service: LiveService, db: Any) -> LiveService:
    return shared_service


def http_client(service: LiveService) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=service.base_url, auth=("e2e", API_TOKEN), timeout=10.0)


@pytest.fixture
async def api(service: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(service) as client:
        yield client
