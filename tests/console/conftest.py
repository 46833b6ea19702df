"""Browser tests: the service as a real process (`python -m app serve`) and Debian's Chromium
driven by Playwright, one browser per pytest worker and a fresh context (cookies) per test."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from jirasim import JiraSimulator
from tests.conftest import API_TOKEN, CHROMIUM, SECRET_KEY
from tests.support.live import LiveService, free_port, live_service, service_env

DESKTOP = {"width": 1280, "height": 900}
# A push Jira keeps refusing gives up (Failed) after two quick attempts.
FAST_FAILURES = {
    "JOB_MAX_ATTEMPTS": "2",
    "JOB_RETRY_BASE_SECONDS": "0.05",
    "JOB_RETRY_MAX_SECONDS": "0.1",
    "JIRA_MAX_RETRIES": "1",
    "JIRA_RETRY_BASE_SECONDS": "0.05",
    "JIRA_SEARCH_SETTLE_SECONDS": "0.1",
    "JIRA_LATE_WRITE_SECONDS": "0.1",
}
PHONE = {"width": 390, "height": 844}
# The suite runs beside the rest on two cores: Playwright's 5 s default is too tight under load.
PATIENCE_MS = 15_000
expect.set_options(timeout=PATIENCE_MS)


@pytest.fixture(scope="module")
async def console_service(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveService]:
    env = service_env(database_url, free_port(), API_TOKEN, SECRET_KEY, **FAST_FAILURES)
    async with live_service(env, tmp_path_factory.mktemp("console")) as service:
        yield service


@pytest.fixture
def service(console_service: LiveService, db: Any) -> LiveService:
    """The running service, on a database emptied before the test."""
    return console_service


@pytest.fixture
async def api(service: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=service.base_url, auth=("console-test", API_TOKEN), timeout=10.0
    ) as client:
        yield client


@pytest.fixture(scope="session")
async def jira_server() -> AsyncIterator[JiraSimulator]:
    """The Jira simulator as a real HTTP server (the service calls it over the network)."""
    sim = JiraSimulator(seed=True, base_url="http://placeholder")
    async with sim.serve() as server:
        sim.base_url = server.base_url
        yield sim


@pytest.fixture
def jira(jira_server: JiraSimulator) -> JiraSimulator:
    jira_server.reset(seed=True)
    return jira_server


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        await browser.close()


async def open_page(chromium: Browser, service: LiveService, viewport: dict[str, int]) -> Any:
    context = await chromium.new_context(base_url=service.base_url, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(PATIENCE_MS)
    page = await context.new_page()
    problems: list[str] = []
    # A page answered with an error status (a refusal the test asserts) is no console problem.
    documents: set[str] = set()
    page.on(
        "response",
        lambda r: documents.add(r.url) if r.request.resource_type == "document" else None,
    )

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        if (
            message.text.startswith("Failed to load resource")
            and message.location.get("url") in documents
        ):
            return
        problems.append(f"{message.text} {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    return context, page, problems


@pytest.fixture
async def page(chromium: Browser, service: LiveService) -> AsyncIterator[Page]:
    """A page at 1280 px in a fresh context; the test fails on any console error or dialog."""
    context, opened, problems = await open_page(chromium, service, DESKTOP)
    yield opened
    await context.close()
    assert problems == []


@pytest.fixture
async def phone(chromium: Browser, service: LiveService) -> AsyncIterator[Page]:
    """The same at 390 px."""
    context, opened, problems = await open_page(chromium, service, PHONE)
    yield opened
    await context.close()
    assert problems == []


async def sign_in(page: Page, token: str = API_TOKEN) -> None:
    await page.goto("/console")
    await page.get_by_label("API token").fill(token)
    await page.get_by_role("button", name="Sign in").click()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_client(app: Any) -> httpx.AsyncClient:
    """A client of the app in process holding only what a browser holds (cookies)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://helpdesk.test"
    )


async def csrf_of(client: httpx.AsyncClient, path: str = "/console/sign-in") -> str:
    page = await client.get(path)
    match = CSRF.search(page.text)
    assert match, page.text
    return match.group(1)


async def signed_in_client(client: httpx.AsyncClient, token: str = API_TOKEN) -> httpx.Response:
    csrf = await csrf_of(client)
    return await client.post("/console/sign-in", data={"token": token, "csrf_token": csrf})
