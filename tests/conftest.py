"""Shared fixtures: the test database, the app, and API clients for JSON and XML."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from app.core.db import create_engine
from app.core.migrations import upgrade_to_head
from app.core.settings import Settings
from app.main import create_app
from app.wiring import session_factory as wired_session_factory
from tests.support import server_errors
from tests.support.database import (
    DatabaseReset,
    create_throwaway_database,
    drop_database,
    requested_url,
)

pytest_plugins = ["tests.support.inbound_fixtures", "tests.support.outgoing_fixtures"]

CHROMIUM = "/usr/bin/chromium"
BROWSER_TESTS_LEFT_OUT = pytest.StashKey[int]()
API_TOKEN = "test-api-token-0123456789"
SECRET_KEY = "test-secret-key-0123456789"


def _deselect(config: pytest.Config, items: list[pytest.Item], marker: str) -> int:
    deselected = [item for item in items if marker in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if marker not in item.keywords]
    return len(deselected)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests are deselected, visibly, when the suite runs on SQLite; browser
    tests when Chromium is missing, outside CI (CI installs it and never skips them)."""
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        _deselect(config, items, "postgres")
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        config.stash[BROWSER_TESTS_LEFT_OUT] = _deselect(config, items, "browser")


def browser_tests_note(chromium: bool, in_ci: bool, left_out: int | None) -> str | None:
    """The summary's line when browser tests were left out (None when they were not).
    `left_out` None: this process did not collect the tests (under `-n`, the workers do, and
    their count does not reach it), so the line gives no count."""
    if chromium or in_ci or left_out == 0:
        return None
    count = f"{left_out} " if left_out else ""
    return f"{count}browser tests not run: no {CHROMIUM} (apt-get install chromium)"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    note = browser_tests_note(
        Path(CHROMIUM).exists(),
        bool(os.environ.get("CI")),
        config.stash.get(BROWSER_TESTS_LEFT_OUT, None),
    )
    if note is not None:
        terminalreporter.write_line(note)


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """No request in the suite may answer 5xx or crash the app, unless the test provokes one
    on purpose (marker `expects_server_error`, e.g. the database being unreachable)."""
    server_errors.take_server_errors()
    yield
    seen = server_errors.take_server_errors()
    if request.node.get_closest_marker("expects_server_error") is None:
        assert not seen, f"server errors during the test: {seen}"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    admin_url = requested_url(tmp_path_factory.mktemp("db"))
    url = await create_throwaway_database(admin_url)
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    yield url
    await drop_database(url, admin_url)


@pytest.fixture(scope="session")
def make_settings(database_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "api_token": API_TOKEN,
            "secret_key": SECRET_KEY,
            "public_url": "http://helpdesk.test",
            "run_worker": False,
            "log_level": "WARNING",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture(scope="session")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[Any]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session", autouse=True)
async def database_reset(engine: Any) -> DatabaseReset:
    """The seed rows, read at the start of the session (autouse, so before any module-wide
    service or fuzz case has written), and the reset that restores them."""
    reset = DatabaseReset(engine)
    await reset.snapshot()
    return reset


@pytest.fixture
async def db(engine: Any, database_reset: DatabaseReset) -> Any:
    """A database with only the migrations' seed data: emptied before the test, so whatever ran
    earlier in this pytest worker (a module's live service, the fuzz cases) cannot leak in."""
    await database_reset.reset()
    return engine


@pytest.fixture
async def session(db: Any) -> AsyncIterator[Any]:
    """A session of the app's kind: the helpdesk's domain events reach the integration."""
    async with wired_session_factory(db)() as session:
        yield session


@pytest.fixture(scope="session")
def app_instance(settings: Settings) -> Any:
    """One app per run: FastAPI builds its routes on the first request, which is slow."""
    application = create_app(settings)
    server_errors.install(application)
    return application


@asynccontextmanager
async def started(application: Any) -> AsyncIterator[Any]:
    """Run an app's lifespan; afterwards restore the process-wide logging it configured."""
    structlog_config = structlog.get_config()
    root = logging.getLogger()
    root_handlers, root_level = list(root.handlers), root.level
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        structlog.configure(**structlog_config)
        root.handlers, root.level = root_handlers, root_level


@pytest.fixture
async def app(app_instance: Any, settings: Settings, db: Any) -> AsyncIterator[Any]:
    """The app with a fresh lifespan (engine, services) and the default settings per test."""
    app_instance.state.settings = settings
    try:
        async with started(app_instance):
            yield app_instance
    finally:
        app_instance.state.settings = settings
        app_instance.dependency_overrides.clear()


def api_client(application: Any, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application),
        base_url="http://helpdesk.test",
        auth=kwargs.pop("auth", ("tester", API_TOKEN)),
        **kwargs,
    )


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as http:
        yield http


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


# -- Jira simulator in-process (ticket ↔ Jira tests) ----------------------------------------------

SIM_BASE_URL = "http://jira.test"
SIM_USER = "integration@example.com"
SIM_TOKEN = "demo-token"
# For `pytestmark`: a module's tests run against Jira Cloud and Jira Server/Data Center alike.
BOTH_JIRAS = pytest.mark.parametrize("jira_flavor", ["cloud", "server"])


@pytest.fixture(scope="session")
async def shared_jira_sim() -> AsyncIterator[Any]:
    """One simulator per pytest worker (building its app is the slow part)."""
    from jirasim import JiraSimulator

    simulator = JiraSimulator(seed=True, base_url=SIM_BASE_URL, webhook_retry_delay=0.001)
    yield simulator
    await simulator.aclose()


@pytest.fixture
def jira_flavor() -> str:
    """Which Jira the simulator plays: Cloud as it is today, unless a module or test
    parametrizes `jira_flavor` (`"server"` = Server/Data Center)."""
    return "cloud"


@pytest.fixture
def jira_sim(shared_jira_sim: Any, jira_flavor: str) -> Any:
    """The seeded simulator (projects DEMO and SUP), fresh for each test: Cloud (or the
    `jira_flavor` asked for), real time."""
    from jirasim.state import utc_now

    shared_jira_sim.clock = utc_now
    shared_jira_sim.flavor = jira_flavor
    shared_jira_sim.reset(seed=True)
    return shared_jira_sim


@pytest.fixture(scope="session")
def sim_app_instance(make_settings: Callable[..., Settings], shared_jira_sim: Any) -> Any:
    """One app per run whose Jira calls reach the in-process simulator; retries without delays."""
    settings = make_settings(
        job_retry_base_seconds=0.0,
        job_retry_max_seconds=0.0,
        jira_retry_base_seconds=0.0,
        jira_search_settle_seconds=0.0,
        jira_late_write_seconds=0.0,
    )
    application = create_app(settings, jira_transport=httpx.ASGITransport(app=shared_jira_sim.app))
    server_errors.install(application)
    return application


@pytest.fixture
async def sim_app(sim_app_instance: Any, db: Any, jira_sim: Any) -> AsyncIterator[Any]:
    """The simulator-backed app with a fresh lifespan per test."""
    try:
        async with started(sim_app_instance):
            yield sim_app_instance
    finally:
        sim_app_instance.dependency_overrides.clear()


@pytest.fixture
async def sim_client(sim_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(sim_app) as http:
        yield http
