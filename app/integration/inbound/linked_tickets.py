"""The tickets linked to one Jira issue, written set-based: each kind of change is a few
statements whatever the number of tickets (INSERT … SELECT for History, actions and logs,
UPDATE … WHERE for the tickets), inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, String, func, insert, literal, select
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.core.db import utcnow
from app.core.events import publish
from app.helpdesk.history import SYNC_ERROR
from app.helpdesk.models import Action, ActionSource, HistoryEntry, Ticket
from app.integration.events import JiraActionsAdded
from app.integration.models import Direction, JiraInstance, JiraIssue, LogStatus, SyncLog

ACTOR = "Jira"


@dataclass
class ApplyReport:
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def text_value(value: str) -> ColumnElement[str]:
    return literal(value, String)


def time_value(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, DateTime(timezone=True))


async def has_linked_tickets(session: AsyncSession, issue: JiraIssue) -> bool:
    found = await session.scalar(
        select(col(Ticket.id)).where(col(Ticket.jira_issue_ref) == issue.id).limit(1)
    )
    return found is not None


class LinkedTickets:
    """The tickets linked to one issue row, and the set-based writes about them."""

    def __init__(self, session: AsyncSession, instance: JiraInstance, issue: JiraIssue) -> None:
        self.session = session
        self.instance = instance
        self.issue = issue
        self.now = utcnow()

    @property
    def linked(self) -> ColumnElement[bool]:
        return col(Ticket.jira_issue_ref) == self.issue.id

    def ids(self) -> Any:
        return select(col(Ticket.id)).where(self.linked)

    async def id_list(self) -> list[int]:
        return [i for i in await self.session.scalars(self.ids().order_by(col(Ticket.id))) if i]

    async def count(self) -> int:
        return int(
            await self.session.scalar(select(func.count()).select_from(Ticket).where(self.linked))
            or 0
        )

    async def history(
        self, description: ColumnElement[str], *where: Any, joins: tuple[Any, ...] = ()
    ) -> None:
        """One History line per linked ticket matching `where` (INSERT … SELECT)."""
        query = select(
            col(Ticket.id),
            description,
            time_value(self.now),
        ).select_from(Ticket)
        for target, on, outer in joins:
            query = query.join(target, on, isouter=outer)
        query = query.where(self.linked, *where)
        await self.session.execute(
            insert(HistoryEntry).from_select(["ticket_id", "description", "date_created"], query)
        )

    async def log(self, event: str, message: str, *, error: bool = False) -> None:
        """A CrmSyncLogs row per linked ticket (INSERT … SELECT)."""
        query = select(
            literal(self.instance.id),
            col(Ticket.id),
            text_value(self.issue.issue_key),
            text_value(Direction.FROM_JIRA),
            text_value(event),
            text_value(LogStatus.ERROR if error else LogStatus.OK),
            text_value(message),
            time_value(self.now),
        ).where(self.linked)
        columns = [
            "jira_instance_id",
            "ticket_id",
            "jira_key",
            "direction",
            "event",
            "status",
            "message",
            "date_created",
        ]
        await self.session.execute(insert(SyncLog).from_select(columns, query))

    async def error(self, event: str, message: str) -> None:
        """An error about every linked ticket: sync logs (CrmSyncErrors) and History."""
        await self.log(event, message, error=True)
        await self.history(SYNC_ERROR.sql(message=message))

    async def touch(self) -> None:
        await self.session.execute(
            sa_update(Ticket).where(self.linked).values(date_modified=self.now)
        )

    async def add_actions(
        self, description: str, creator: str, comment_id: str | None, created: datetime | None
    ) -> None:
        """The same action on every linked ticket that does not have this comment yet."""
        query = select(
            col(Ticket.id),
            text_value(description),
            text_value(creator[:255]),
            time_value(created or self.now),
            text_value(ActionSource.JIRA),
            literal(comment_id, String),
        ).where(self.linked)
        if comment_id is not None:
            has_it = aliased(Action)
            query = query.where(
                ~select(col(has_it.id))
                .where(
                    col(has_it.ticket_id) == Ticket.id, col(has_it.jira_comment_id) == comment_id
                )
                .exists()
            )
        columns = [
            "ticket_id",
            "description",
            "creator_name",
            "date_created",
            "source",
            "jira_comment_id",
        ]
        added = await self.session.scalars(
            insert(Action).from_select(columns, query).returning(col(Action.id))
        )
        action_ids = tuple(sorted(i for i in added.all() if i is not None))
        if action_ids:
            await publish(self.session, JiraActionsAdded(action_ids))
