"""Fixtures for the simulator's own tests: a fresh simulator, a client and a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jirasim import JiraSimulator
from tests.conftest import SIM_BASE_URL, SIM_TOKEN, SIM_USER

BASE_URL = SIM_BASE_URL
AUTH = (SIM_USER, SIM_TOKEN)


@dataclass
class Received:
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny webhook receiver; answers the queued statuses first, then 200."""

    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append(
                Received(str(request.url), dict(request.headers), await request.body())
            )
            return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def events(self) -> list[str]:
        return [r.json["webhookEvent"] for r in self.received]


@pytest.fixture
def sim(jira_sim: JiraSimulator) -> JiraSimulator:
    """The suite's simulator (tests/conftest.py), fresh for each test."""
    return jira_sim


@pytest.fixture
async def client(sim: JiraSimulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=AUTH) as c:
        yield c


@pytest.fixture
async def receiver(sim: JiraSimulator) -> AsyncIterator[Receiver]:
    recv = Receiver()
    transport = httpx.ASGITransport(app=recv.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as c:
        sim.set_webhook_client(c)
        yield recv
