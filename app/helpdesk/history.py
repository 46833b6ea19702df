"""A ticket's History: one plain line per change, e.g. "Status changed from A to B by Jira"."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.helpdesk.models import HistoryEntry


async def add_history(session: AsyncSession, ticket_id: int, description: str) -> None:
    session.add(HistoryEntry(ticket_id=ticket_id, description=description))
