"""The engine's pool on PostgreSQL: a connection the server closed is replaced before use; rows
read by id come from the session when it holds them."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from app.core.db import create_engine, keep_for_session, once_per_transaction, rows_by_id
from app.core.settings import Settings
from app.helpdesk.models import TicketType
from tests.support.statements import statements_sent


@pytest.mark.postgres
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


async def type_ids(session: AsyncSession) -> list[int]:
    """Two ticket types, written and then let go by the session."""
    session.add_all([TicketType(name="Incident"), TicketType(name="Question")])
    await session.commit()
    session.expunge_all()
    return list(await session.scalars(select(col(TicketType.id)).order_by(col(TicketType.id))))


async def test_rows_the_session_holds_are_not_read_again(
    session: AsyncSession, db: AsyncEngine
) -> None:
    ids = await type_ids(session)
    with statements_sent(db) as sent:
        first = {
            ident: row.name
            for ident, row in (await rows_by_id(session, TicketType, [ids[0], None])).items()
        }
        assert len(sent) == 1
        gc.collect()  # nothing else refers to the rows read: the session keeps them
        both = await rows_by_id(session, TicketType, ids[:2])
        assert len(sent) == 2, "only the row not held yet is read"
        again = await rows_by_id(session, TicketType, ids[:2])
        assert len(sent) == 2
    assert first == {ids[0]: "Incident"}
    assert both[ids[0]] is again[ids[0]]
    assert {ident: row.name for ident, row in again.items()} == {
        ids[0]: "Incident",
        ids[1]: "Question",
    }


async def test_a_row_expired_in_the_session_is_read_anew(session: AsyncSession) -> None:
    ids = await type_ids(session)
    held = (await rows_by_id(session, TicketType, ids[:1]))[ids[0]]
    await session.execute(
        update(TicketType)
        .where(col(TicketType.id) == ids[0])
        .values(name="Renamed")
        .execution_options(synchronize_session=False)
    )
    assert (await rows_by_id(session, TicketType, ids[:1]))[ids[0]].name != "Renamed"
    session.expire(held)
    assert (await rows_by_id(session, TicketType, ids[:1]))[ids[0]].name == "Renamed"


async def test_a_row_deleted_in_the_session_is_not_given(session: AsyncSession) -> None:
    added = TicketType(name="Short-lived")
    session.add(added)
    await session.flush()
    ident = added.id or 0
    assert ident in await rows_by_id(session, TicketType, [ident])
    await session.delete(added)
    await session.flush()
    assert await rows_by_id(session, TicketType, [ident]) == {}


async def test_a_row_held_without_a_column_is_read_again(session: AsyncSession) -> None:
    ids = await type_ids(session)
    query = select(TicketType).where(col(TicketType.id) == ids[0]).options(defer(TicketType.name))
    partial = (await session.scalars(query)).one()
    keep_for_session(session, [partial])
    (row,) = (await rows_by_id(session, TicketType, ids[:1])).values()
    assert row.name == "Incident"  # loaded: not read on access (an async session cannot)


async def test_kept_once_per_transaction_is_read_again_in_the_next(session: AsyncSession) -> None:
    reads: list[int] = []

    async def read() -> int:
        reads.append(len(reads) + 1)
        return len(reads)

    async with session.begin():
        first = await once_per_transaction(session, "test.kept", read)
        again = await once_per_transaction(session, "test.kept", read)
    async with session.begin():
        next_transaction = await once_per_transaction(session, "test.kept", read)
    assert (first, again, next_transaction) == (1, 1, 2)


async def test_kept_by_a_transaction_s_first_statement_is_read_again_in_the_next(
    session: AsyncSession,
) -> None:
    """The read that begins the transaction (nothing ran before it) keeps its value for that
    transaction only: not for the next one, which also had not begun when it asked."""

    async def read() -> int:
        return int(await session.scalar(select(func.count()).select_from(TicketType)) or 0)

    before = await once_per_transaction(session, "test.first_statement", read)
    await session.commit()
    session.add(TicketType(name="Question"))
    await session.commit()
    after = await once_per_transaction(session, "test.first_statement", read)
    await session.commit()
    assert after == before + 1
