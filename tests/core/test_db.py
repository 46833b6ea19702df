"""The engine's pool on PostgreSQL: a connection the server closed is replaced before use."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from app.core.db import create_engine
from app.core.settings import Settings

pytestmark = pytest.mark.postgres


async def test_a_pooled_connection_the_server_closed_is_replaced_before_use(
    settings: Settings,
) -> None:
    """No ping per checkout: asyncpg has read the server's goodbye, and the pool drops it."""
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    closed = asyncio.Event()
    try:
        async with engine.connect() as connection:
            backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            raw: Any = (await connection.get_raw_connection()).driver_connection
            raw.add_termination_listener(lambda _connection: closed.set())
        admin = create_engine(settings.database_url)
        try:
            async with admin.connect() as connection:
                await connection.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}
                )
        finally:
            await admin.dispose()
        await asyncio.wait_for(closed.wait(), 10)

        async with engine.connect() as connection:
            answer = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert answer != backend
    finally:
        await engine.dispose()
