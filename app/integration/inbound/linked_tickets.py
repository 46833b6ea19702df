"""The tickets linked to one Jira issue, written set-based: each kind of change is a few
statements whatever the number of tickets (INSERT … SELECT for History, actions and logs,
UPDATE … WHERE for the tickets), inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    String,
    bindparam,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.core.db import table_of, utcnow
from app.core.events import publish
from app.helpdesk.history import SYNC_ERROR
from app.helpdesk.models import Action, ActionSource, HistoryEntry, Ticket
from app.integration.events import JiraActionsAdded
from app.integration.models import Direction, JiraInstance, JiraIssue, LogStatus, SyncLog

ACTOR = "Jira"

_HAS_IT = aliased(Action)  # built once: an alias is costly to make per statement


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


# Built once (hot statements: each applied delivery runs them), their values bound per call
# (`LinkedTickets.bound`). The writes name the tables: the ORM reads values given with an
# entity's INSERT as rows to insert, and an ORM-enabled UPDATE costs about a third more to run
# (loaded tickets are read anew anyway). One condition on the table's column serves them all.
TICKETS = table_of(Ticket)
LINKED_TO_BOUND_ISSUE = TICKETS.c.jira_issue_ref == bindparam("issue_ref", type_=Integer)
_LINKED = (
    select(col(Ticket.id), col(Ticket.ticket_type_id))
    .where(LINKED_TO_BOUND_ISSUE)
    .order_by(col(Ticket.id))
)
_LINKED_TO_ANY = (
    select(col(Ticket.id), col(Ticket.ticket_type_id), col(Ticket.jira_issue_ref))
    .where(TICKETS.c.jira_issue_ref.in_(bindparam("issue_refs", expanding=True)))
    .order_by(col(Ticket.id))
)
_TOUCH = (
    sa_update(TICKETS)
    .where(LINKED_TO_BOUND_ISSUE)
    .values(date_modified=bindparam("now", type_=DateTime(timezone=True)))
)
_LOG_PER_TICKET = insert(table_of(SyncLog)).from_select(
    [
        "jira_instance_id",
        "ticket_id",
        "jira_key",
        "direction",
        "event",
        "status",
        "message",
        "date_created",
    ],
    select(
        bindparam("instance_id", type_=Integer),
        col(Ticket.id),
        bindparam("jira_key", type_=String),
        text_value(Direction.FROM_JIRA),
        bindparam("event", type_=String),
        bindparam("status", type_=String),
        bindparam("message", type_=String),
        bindparam("now", type_=DateTime(timezone=True)),
    ).where(LINKED_TO_BOUND_ISSUE),
)


class LinkedTickets:
    """The tickets linked to one issue row, and the set-based writes about them."""

    def __init__(
        self,
        session: AsyncSession,
        instance: JiraInstance,
        issue: JiraIssue,
        linked: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        """`linked`: the linked tickets' (id, ticket type id), by id, when read with the issue
        (else they are read when first asked for)."""
        self.session = session
        self.instance = instance
        self.issue = issue
        self.now = utcnow()
        # One object serves all the deliveries a job applies together: which tickets are
        # linked does not change meanwhile, and they are touched once.
        self._id_list: list[int] = []
        self._type_ids: set[int] | None = None  # None: not read yet, or types changed since
        self._touched = False
        # Linked tickets a change statement gave `date_modified` = now (`modified`): when that
        # is every one of them, `touch` has nothing left to write.
        self._modified = 0
        if linked is not None:
            self._took(linked)

    def bound(self, **values: object) -> dict[str, object]:
        """The values of a statement built once about the linked tickets (`issue_ref`, `now`),
        and `values`."""
        return {"issue_ref": self.issue.id, "now": self.now, **values}

    @cached_property
    def linked(self) -> ColumnElement[bool]:
        return col(Ticket.jira_issue_ref) == self.issue.id

    def ids(self) -> Any:
        return select(col(Ticket.id)).where(self.linked)

    async def id_list(self) -> list[int]:
        if self._type_ids is None:
            await self._read_linked()
        return self._id_list

    async def type_ids(self) -> set[int]:
        """The ticket types of the linked tickets, read with their ids (`types_changed`: read
        again)."""
        if self._type_ids is None:
            await self._read_linked()
        assert self._type_ids is not None
        return self._type_ids

    def types_changed(self) -> None:
        self._type_ids = None

    async def _read_linked(self) -> None:
        self._took((await self.session.execute(_LINKED, {"issue_ref": self.issue.id})).all())

    def _took(self, rows: Sequence[Sequence[Any]]) -> None:
        """The linked tickets as read: (id, ticket type id) each, by id."""
        self._id_list = [row[0] for row in rows if row[0]]
        self._type_ids = {row[1] for row in rows}

    @classmethod
    async def of_issues(
        cls, session: AsyncSession, instance: JiraInstance, issues: Iterable[JiraIssue]
    ) -> dict[str, LinkedTickets]:
        """The linked tickets of several issues of one instance, read in one statement, by
        Jira's issue id."""
        found = {issue.id: cls(session, instance, issue) for issue in issues}
        rows: dict[int | None, list[Sequence[Any]]] = {issue_ref: [] for issue_ref in found}
        if found:
            for row in await session.execute(_LINKED_TO_ANY, {"issue_refs": list(found)}):
                rows[row[2]].append(row)
        for issue_ref, tickets in found.items():
            tickets._took(rows[issue_ref])
        return {tickets.issue.issue_id: tickets for tickets in found.values()}

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
        await self.session.execute(
            _LOG_PER_TICKET,
            self.bound(
                instance_id=self.instance.id,
                jira_key=self.issue.issue_key,
                event=event,
                status=LogStatus.ERROR if error else LogStatus.OK,
                message=message,
            ),
        )

    async def error(self, event: str, message: str) -> None:
        """An error about every linked ticket: sync logs (CrmSyncErrors) and History."""
        await self.log(event, message, error=True)
        await self.history(SYNC_ERROR.sql(message=message))

    def modified(self, rows: int) -> None:
        """A change statement gave `rows` linked tickets `date_modified` = now. (A change is
        followed by `touch`, so no ticket is counted twice before it.)"""
        self._modified += rows

    async def touch(self) -> None:
        """`date_modified` = now on every linked ticket, once."""
        if not self._touched and self._modified < len(await self.id_list()):
            await self.session.execute(_TOUCH, self.bound())
        self._touched = True

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
            query = query.where(
                ~select(col(_HAS_IT.id))
                .where(
                    col(_HAS_IT.ticket_id) == Ticket.id, col(_HAS_IT.jira_comment_id) == comment_id
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
