"""Jira client test fixtures: respx router as transport, fake clock, recording sleep."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx
from prometheus_client import CollectorRegistry

from app.jira.client import JiraClient
from app.jira.metrics import JiraMetrics

BASE_URL = "https://jira.example.com"
USER = "sync@example.com"
SECRET = "api-token-not-for-logs"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingSleep:
    """Stands in for asyncio.sleep: records each delay and moves the fake clock on."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps(clock: FakeClock) -> RecordingSleep:
    return RecordingSleep(clock)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE_URL, assert_all_called=False)


MakeClient = Callable[..., JiraClient]


@pytest.fixture
async def make_client(
    router: respx.MockRouter,
    sleeps: RecordingSleep,
    clock: FakeClock,
    registry: CollectorRegistry,
) -> AsyncIterator[MakeClient]:
    clients: list[JiraClient] = []

    def build(**overrides: Any) -> JiraClient:
        options: dict[str, Any] = {
            "base_url": BASE_URL,
            "user_name": USER,
            "secret": SECRET,
            "max_retries": 4,
            "backoff_base": 0.5,
            "transport": httpx.MockTransport(router.async_handler),
            "sleep": sleeps,
            "random": lambda: 1.0,
            "clock": clock,
            "metrics": JiraMetrics(registry),
        } | overrides
        client = JiraClient(**options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> JiraClient:
    return make_client()
