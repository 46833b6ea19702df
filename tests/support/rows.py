"""Reading rows inside the test's own transaction (flushed first, never committed), so a test
can show that a change and what it caused are one unit of work: both there, or, after a
rollback, neither."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.helpdesk.models import HistoryEntry, Ticket
from app.jobs.models import SyncJob


async def ticket(session: AsyncSession, ticket_id: int) -> Ticket:
    found = await session.get(Ticket, ticket_id)
    assert found is not None, f"no ticket {ticket_id}"
    return found


async def history_lines(session: AsyncSession, ticket_id: int) -> list[str]:
    await session.flush()
    rows = await session.scalars(
        select(col(HistoryEntry.description))
        .where(col(HistoryEntry.ticket_id) == ticket_id)
        .order_by(col(HistoryEntry.id))
    )
    return list(rows)


async def queued_jobs(session: AsyncSession, kind: str | None = None) -> list[SyncJob]:
    await session.flush()
    query = select(SyncJob).order_by(col(SyncJob.id))
    if kind is not None:
        query = query.where(col(SyncJob.kind) == kind)
    return list(await session.scalars(query))


async def count(session: AsyncSession, model: type[Any]) -> int:
    await session.flush()
    return len(list(await session.scalars(select(model))))
