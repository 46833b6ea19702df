"""The request body limit: 413 by Content-Length or while streaming, nothing read beyond it; a
write that lost a race runs again; a request is counted under way while it is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from app.api.middleware import RACE_ATTEMPTS, RequestContextMiddleware, RetryLostRacesMiddleware
from app.core.errors import LostRace
from app.core.foreground import Foreground
from tests.conftest import api_client
from tests.support.api import parse_answer

LIMIT = 64


@pytest.fixture
def small_limit(app: Any) -> Any:
    app.state.settings = app.state.settings.model_copy(update={"max_body_bytes": LIMIT})
    return app


def body_of(size: int) -> bytes:
    prefix, suffix = b'{"Name": "', b'"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


async def chunks(body: bytes, size: int = 10) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_at_the_limit_is_read(small_limit: Any, chunked: bool) -> None:
    body = body_of(LIMIT)
    async with api_client(small_limit) as http:
        answer = await http.post(
            "/api/json/TicketTypes",
            content=chunks(body) if chunked else body,
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("chunked", [False, True])
async def test_one_byte_more_is_413(small_limit: Any, chunked: bool, fmt: str) -> None:
    body = body_of(LIMIT + 1)
    async with api_client(small_limit) as http:
        answer = await http.post(
            f"/api/{fmt}/TicketTypes",
            content=chunks(body) if chunked else body,
            headers={"Content-Type": f"application/{fmt}"},
        )
        assert answer.status_code == 413
        error = parse_answer(answer)["Error"]
        assert error["Code"] == "PayloadTooLarge"
        assert str(LIMIT) in error["Message"]
        assert (await http.get("/api/json/TicketTypes")).json() == {"TicketTypes": []}


async def test_requests_without_a_body_pass(small_limit: Any) -> None:
    async with api_client(small_limit) as http:
        assert (await http.get("/api/json/TicketTypes")).status_code == 200
        assert (await http.get("/healthz")).status_code == 200


# -- a write that lost a race runs again -----------------------------------------------------------


def racing_app(losses: int) -> tuple[Any, list[bytes]]:
    """An ASGI app behind the retry middleware that loses `losses` races, then echoes the body."""
    bodies: list[bytes] = []

    async def endpoint(request: Request) -> Response:
        bodies.append(await request.body())
        if len(bodies) <= losses:
            raise LostRace
        return Response(bodies[-1])

    routes = [Route("/api/json/Things", endpoint, methods=["GET", "POST"])]
    return RetryLostRacesMiddleware(Router(routes=routes)), bodies


def plain_client(application: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://helpdesk.test"
    )


class TestLostRaces:
    async def test_a_write_runs_again_with_the_same_body(self) -> None:
        application, bodies = racing_app(losses=RACE_ATTEMPTS - 1)
        async with plain_client(application) as http:
            response = await http.post("/api/json/Things", content=chunks(b'{"Name": "x"}', 4))
        assert (response.status_code, response.content) == (200, b'{"Name": "x"}')
        assert bodies == [b'{"Name": "x"}'] * RACE_ATTEMPTS

    async def test_a_write_that_always_loses_is_409_and_says_so(self) -> None:
        application, bodies = racing_app(losses=RACE_ATTEMPTS)
        async with plain_client(application) as http:
            response = await http.post("/api/json/Things", content=b"{}")
        assert response.status_code == 409
        assert response.json()["Error"]["Message"].startswith("A concurrent change")
        assert len(bodies) == RACE_ATTEMPTS

    async def test_a_read_is_not_run_again(self) -> None:
        application, bodies = racing_app(losses=1)
        async with plain_client(application) as http:
            with pytest.raises(LostRace):
                await http.get("/api/json/Things")
        assert len(bodies) == 1


@pytest.mark.parametrize("handler_fails", [False, True])
async def test_a_request_is_counted_under_way_while_it_is_answered(handler_fails: bool) -> None:
    seen: list[int] = []

    async def endpoint(request: Request) -> Response:
        seen.append(request.app.state.foreground.in_flight)
        if handler_fails:
            raise RuntimeError("the handler failed")
        return Response(status_code=204)

    app = Starlette(
        routes=[Route("/thing", endpoint)], middleware=[Middleware(RequestContextMiddleware)]
    )
    app.state.foreground = Foreground()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.get("/thing")
    assert seen == [1]
    assert app.state.foreground.in_flight == 0
