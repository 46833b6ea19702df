"""Sync logs: every entry in the log, an error about one ticket in its History too, an
instance-wide entry in no ticket's History (app/integration/sync_logs.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.integration.models import Direction, SyncLog
from app.integration.sync_logs import log_sync, log_ticket_error
from tests.support.rows import count, history_lines
from tests.support.world import linked_world


async def logs(session: AsyncSession) -> list[SyncLog]:
    await session.flush()
    return list(await session.scalars(select(SyncLog).order_by(col(SyncLog.id))))


async def test_an_entry_is_ok_unless_it_is_an_error(session: AsyncSession) -> None:
    world = await linked_world(session, 1)
    ticket = world.tickets[0]
    await log_sync(
        session,
        instance_id=world.instance_id,
        direction=Direction.TO_JIRA,
        event="link",
        message="Linked to DEMO-1",
        ticket_id=ticket,
        jira_key="DEMO-1",
    )
    await log_sync(
        session, instance_id=world.instance_id, direction=Direction.FROM_JIRA, event="x", error=True
    )
    ok, error = await logs(session)
    assert (ok.status, ok.event, ok.message, ok.ticket_id, ok.jira_key) == (
        "Ok",
        "link",
        "Linked to DEMO-1",
        ticket,
        "DEMO-1",
    )
    assert (ok.jira_instance_id, ok.direction) == (world.instance_id, Direction.TO_JIRA)
    assert (error.status, error.ticket_id, error.message) == ("Error", None, "")
    assert await history_lines(session, ticket) == []


async def test_a_ticket_error_is_logged_and_told_in_its_history(session: AsyncSession) -> None:
    world = await linked_world(session, 2)
    failing, other = world.tickets
    await log_ticket_error(
        session,
        instance_id=world.instance_id,
        ticket_id=failing,
        direction=Direction.TO_JIRA,
        event="jira.link_ticket",
        message="Issue DEMO-999 does not exist",
        jira_key="DEMO-999",
    )
    (entry,) = await logs(session)
    assert (entry.status, entry.ticket_id, entry.jira_key, entry.event) == (
        "Error",
        failing,
        "DEMO-999",
        "jira.link_ticket",
    )
    assert await history_lines(session, failing) == [
        "Jira sync error: Issue DEMO-999 does not exist"
    ]
    assert await history_lines(session, other) == []
    await session.rollback()
    assert await count(session, SyncLog) == 0
