"""The request body limit: 413 by Content-Length or while streaming, nothing read beyond it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

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
