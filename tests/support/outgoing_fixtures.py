"""Fixtures for outgoing events: an in-process receiver (`tests.support.receiver`) and the
service app whose events reach it (and whose Jira calls reach the simulator); no worker task:
tests run the jobs with `tests.support.jobs.drain`, retries due at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from app.core.settings import Settings
from app.main import create_app
from app.outgoing.sender import new_secret
from tests.support import server_errors
from tests.support.receiver import Receive, Receiver, Scope, Send

RECEIVER_URL = "http://receiver.test/hook"


class Switch:
    """One ASGI app for the session's service; each test points it at its own receiver (and
    may add receivers for other host names in `hosts`)."""

    def __init__(self) -> None:
        self.current = Receiver(new_secret())
        self.hosts: dict[str, Receiver] = {}

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = dict(scope.get("headers", [])).get(b"host", b"").decode()
        await self.hosts.get(host, self.current).app(scope, receive, send)


@pytest.fixture(scope="session")
def receiver_switch() -> Switch:
    return Switch()


@pytest.fixture
def receiver(receiver_switch: Switch) -> Receiver:
    receiver_switch.current = Receiver(new_secret())
    receiver_switch.hosts.clear()
    return receiver_switch.current


@pytest.fixture(scope="session")
def events_app_instance(
    make_settings: Callable[..., Settings], shared_jira_sim: Any, receiver_switch: Switch
) -> Any:
    settings = make_settings(
        job_retry_base_seconds=0.0,
        job_retry_max_seconds=0.0,
        jira_retry_base_seconds=0.0,
        event_retry_base_seconds=0.0,
        event_retry_max_seconds=0.0,
        event_subscription_concurrency=4,  # tests/outgoing/test_deliver.py::TestIsolation
    )
    application = create_app(
        settings,
        jira_transport=httpx.ASGITransport(app=shared_jira_sim.app),
        event_transport=httpx.ASGITransport(app=receiver_switch.app),
    )
    server_errors.install(application)
    return application


@pytest.fixture
async def events_app(
    events_app_instance: Any, db: Any, jira_sim: Any, receiver: Receiver
) -> AsyncIterator[Any]:
    from tests.conftest import started

    async with started(events_app_instance):
        yield events_app_instance


@pytest.fixture
async def events_client(events_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    from tests.conftest import api_client

    async with api_client(events_app) as http:
        yield http


async def subscribe(
    client: httpx.AsyncClient, receiver: Receiver, fmt: str = "json", **elements: Any
) -> dict[str, Any]:
    """A subscription of the receiver (its secret given), as answered on creation."""
    body = {"Name": "Helpdesk", "URL": RECEIVER_URL, "Secret": receiver.secret, **elements}
    response = await client.post(f"/api/{fmt}/EventSubscriptions", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()["EventSubscription"]
    return answer
