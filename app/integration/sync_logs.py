"""Sync logs (the CrmSyncLogs report; errors also make CrmSyncErrors) and ticket-specific errors
in the ticket's History. Instance-wide errors (authentication) stay out of ticket History."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import table_of, utcnow
from app.helpdesk.history import SYNC_ERROR, add_history
from app.integration.models import Direction, LogStatus, SyncLog
from app.jira.pacing import QuotaPause


@dataclass(frozen=True, slots=True)
class SyncLine:
    """One sync log line (`log_sync`), for writing several in one statement (`log_sync_lines`)."""

    instance_id: int | None
    direction: Direction
    event: str
    message: str = ""
    ticket_id: int | None = None
    jira_key: str | None = None
    error: bool = False

    def row(self, at: datetime) -> dict[str, Any]:
        return {
            "jira_instance_id": self.instance_id,
            "ticket_id": self.ticket_id,
            "jira_key": self.jira_key,
            "direction": self.direction,
            "event": self.event,
            "status": LogStatus.ERROR if self.error else LogStatus.OK,
            "message": self.message,
            "date_created": at,
        }


async def log_sync(
    session: AsyncSession,
    *,
    instance_id: int | None,
    direction: Direction,
    event: str,
    message: str = "",
    ticket_id: int | None = None,
    jira_key: str | None = None,
    error: bool = False,
) -> None:
    line = SyncLine(instance_id, direction, event, message, ticket_id, jira_key, error)
    await session.execute(_INSERT_LOG, line.row(utcnow()))


async def log_sync_lines(session: AsyncSession, lines: Sequence[SyncLine]) -> None:
    """Several lines in one statement, in their order."""
    if lines:
        at = utcnow()
        await session.execute(_INSERT_LOG, [line.row(at) for line in lines])


# Written at once on the table, built once: every job writes a line or more, and an object
# added to the session would cost its flush more than this statement costs.
_INSERT_LOG = insert(table_of(SyncLog))


async def log_ticket_error(
    session: AsyncSession,
    *,
    instance_id: int | None,
    ticket_id: int,
    direction: Direction,
    event: str,
    message: str,
    jira_key: str | None = None,
) -> None:
    """An error about one ticket: in the sync logs and errors, and in the ticket's History."""
    await log_sync(
        session,
        instance_id=instance_id,
        direction=direction,
        event=event,
        message=message,
        ticket_id=ticket_id,
        jira_key=jira_key,
        error=True,
    )
    await add_history(session, ticket_id, SYNC_ERROR.text(message=message))


def quota_pause_words(pause: QuotaPause) -> str:
    """What the sync log says of a quota pause (pure)."""
    return (
        f"Jira's API quota is used up (RateLimit-Reason {pause.reason}): every call to this Jira "
        f"is paused for {pause.seconds:.0f} s, as Jira asked; the sync resumes by itself."
    )


def quota_pause_logger(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[int, QuotaPause], Awaitable[None]]:
    """Writes each quota pause of an instance to its sync logs, in a transaction of its own
    (whoever made the Jira call holds none: no transaction spans a Jira call)."""

    async def paused(instance_id: int, pause: QuotaPause) -> None:
        async with sessions() as session, session.begin():
            await log_sync(
                session,
                instance_id=instance_id,
                direction=Direction.TO_JIRA,
                event="jira.quota_paused",
                message=quota_pause_words(pause),
            )

    return paused
