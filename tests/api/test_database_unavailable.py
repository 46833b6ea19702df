"""When the database cannot be reached the API says so with a 503 and Retry-After."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.db import create_engine, session_factory
from app.main import create_app
from tests.conftest import api_client, started
from tests.support.live import free_port


@pytest.mark.expects_server_error
async def test_an_unreachable_database_is_a_503_with_retry_after(app: Any, tmp_path: Any) -> None:
    dead = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing-directory/db.sqlite")
    working = app.state.session_factory
    app.state.session_factory = session_factory(dead)
    try:
        async with api_client(app) as http:
            answer = await http.get("/api/json/TicketTypes")
    finally:
        app.state.session_factory = working
        await dead.dispose()
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["Error"]["Code"] == "ServiceUnavailable"


@pytest.mark.expects_server_error
async def test_the_service_starts_before_its_database_and_says_it_is_not_ready(
    make_settings: Any,
) -> None:
    """A container platform may start the service before PostgreSQL: it comes up, /healthz
    answers, /readyz and the API answer 503, and the worker waits for the database."""
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/helpdesk"
    application = create_app(make_settings(database_url=nowhere, run_worker=True))
    async with started(application), api_client(application) as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        tickets = await http.get("/api/json/Tickets")
        assert tickets.status_code == 503
        assert tickets.json()["Error"]["Code"] == "ServiceUnavailable"
