"""When the database cannot be reached the API says so with a 503 and Retry-After."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.db import create_engine, session_factory
from tests.conftest import api_client


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
