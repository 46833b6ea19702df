"""Applying a Jira issue's changes to every ticket linked to it, set-based: each kind of change is
a few statements whatever the number of tickets (INSERT … SELECT for History, actions and logs,
UPDATE … WHERE for the tickets), inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.core.db import utcnow
from app.helpdesk.fields import FieldValueError, to_stored
from app.helpdesk.models import (
    Action,
    ActionSource,
    CustomField,
    HistoryEntry,
    JiraSyncStatus,
    Product,
    Ticket,
    TicketCustomValue,
    TicketStatus,
    TicketType,
)
from app.integration.inbound.rules import (
    BUILTIN_TICKET_FIELDS,
    ProductOption,
    StatusOption,
    jira_value,
    multi_value_text,
    target_product,
    target_status,
    target_ticket_type,
)
from app.integration.models import (
    Direction,
    JiraInstance,
    JiraIssue,
    JiraMapping,
    LogStatus,
    MappingType,
    SyncLog,
)
from app.jira.webhooks import CommentInfo, IssueChanges

ACTOR = "Jira"


@dataclass
class ApplyReport:
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _text(value: str) -> ColumnElement[str]:
    return literal(value, String)


def _when(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, DateTime(timezone=True))


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
            _when(self.now),
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
            _text(self.issue.issue_key),
            _text(Direction.FROM_JIRA),
            _text(event),
            _text(LogStatus.ERROR if error else LogStatus.OK),
            _text(message),
            _when(self.now),
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
        await self.history(_text(f"Jira sync error: {message}"))

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
            _text(description),
            _text(creator[:255]),
            _when(created or self.now),
            _text(ActionSource.JIRA),
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
        await self.session.execute(insert(Action).from_select(columns, query))


async def apply_issue_changes(
    session: AsyncSession,
    instance: JiraInstance,
    issue: JiraIssue,
    changes: IssueChanges,
    *,
    set_product: bool = False,
) -> ApplyReport:
    """Type, status, move/product and mapped fields, in that order, to every linked ticket."""
    tickets = LinkedTickets(session, instance, issue)
    report = ApplyReport()
    if changes.issue_type:
        await _apply_issue_type(tickets, changes.issue_type, report)
    if changes.status_to:
        await _apply_status(tickets, changes.status_from, changes.status_to, report)
    if changes.move is not None:
        await _apply_move(tickets, changes, report)
    elif set_product and changes.project_key:
        await _apply_product(tickets, changes.project_key, changes.project_name, report, False)
    if changes.fields:
        await _apply_fields(tickets, changes.fields, report)
    if report.changes:
        await tickets.touch()
        await tickets.log("jira.issue_updated", "; ".join(report.changes))
    return report


async def _apply_issue_type(tickets: LinkedTickets, jira_type: str, report: ApplyReport) -> None:
    session = tickets.session
    issue = tickets.issue
    issue.issue_type_name = jira_type
    mappings = await session.execute(
        select(col(JiraMapping.jira_field), col(JiraMapping.teamsupport_field)).where(
            col(JiraMapping.instance_id) == tickets.instance.id,
            col(JiraMapping.mapping_type) == MappingType.TICKET_TYPE,
        )
    )
    types = {
        row[0] or 0: row[1]
        for row in await session.execute(select(col(TicketType.id), col(TicketType.name)))
    }
    target = target_ticket_type({m[0]: m[1] for m in mappings}, types, jira_type)
    if target is None:
        message = f"Jira issue type {jira_type!r} matches no ticket type; ticket type unchanged"
        report.notes.append(message)
        await tickets.log("jira.issue_type", message, error=True)
        return
    options = await _status_options(session, [target])
    if not options.get(target):
        message = f"Ticket type {types[target]!r} has no statuses; ticket type unchanged"
        report.errors.append(message)
        await tickets.error("jira.issue_type", message)
        return
    other_type = col(Ticket.ticket_type_id) != target
    current = await session.execute(
        select(col(Ticket.status_id), col(TicketStatus.name))
        .join(TicketStatus, col(TicketStatus.id) == Ticket.status_id)
        .where(tickets.linked, other_type)
        .distinct()
    )
    moves = {row[0]: target_status(options[target], row[1]) for row in current}
    if not moves:
        return
    old_type = aliased(TicketType)
    await tickets.history(
        _text("Ticket type changed from ")
        + old_type.name
        + _text(f" to {types[target]} by {ACTOR}"),
        other_type,
        joins=((old_type, old_type.id == Ticket.ticket_type_id, False),),
    )
    for old_status, new_status in moves.items():
        await session.execute(
            sa_update(Ticket)
            .where(tickets.linked, other_type, col(Ticket.status_id) == old_status)
            .values(ticket_type_id=target, status_id=new_status)
        )
    report.changes.append(f"ticket type -> {types[target]}")


async def _status_options(
    session: AsyncSession, type_ids: list[int]
) -> dict[int, list[StatusOption]]:
    rows = await session.scalars(
        select(TicketStatus).where(col(TicketStatus.ticket_type_id).in_(type_ids))
    )
    options: dict[int, list[StatusOption]] = {}
    for status in rows:
        options.setdefault(status.ticket_type_id, []).append(
            StatusOption(status.id or 0, status.name, status.is_default)
        )
    return options


async def _apply_status(
    tickets: LinkedTickets, jira_from: str | None, jira_to: str, report: ApplyReport
) -> None:
    session = tickets.session
    previous = jira_from if jira_from is not None else tickets.issue.status_name
    tickets.issue.status_name = jira_to
    if not tickets.instance.update_ticket_status:
        if previous is None or previous.casefold() == jira_to.casefold():
            return
        text = f"Jira issue {tickets.issue.issue_key} status changed from {previous} to {jira_to}"
        await tickets.add_actions(text, ACTOR, None, None)
        report.changes.append(f"status action: {previous} -> {jira_to}")
        return
    type_ids = list(
        await session.scalars(select(col(Ticket.ticket_type_id)).where(tickets.linked).distinct())
    )
    options = await _status_options(session, type_ids)
    old_status = aliased(TicketStatus)
    changed = False
    for type_id in type_ids:
        target = target_status(options.get(type_id, []), jira_to)
        if target is None:
            continue
        where = (col(Ticket.ticket_type_id) == type_id, col(Ticket.status_id) != target)
        new_name = next(o.name for o in options[type_id] if o.id == target)
        await tickets.history(
            _text("Status changed from ") + old_status.name + _text(f" to {new_name} by {ACTOR}"),
            *where,
            joins=((old_status, old_status.id == Ticket.status_id, False),),
        )
        result = await session.execute(
            sa_update(Ticket).where(tickets.linked, *where).values(status_id=target)
        )
        changed = changed or bool(getattr(result, "rowcount", 0))
    if changed:
        report.changes.append(f"status -> {jira_to}")


async def _apply_move(tickets: LinkedTickets, changes: IssueChanges, report: ApplyReport) -> None:
    move = changes.move
    assert move is not None
    issue = tickets.issue
    old_key = move.old_key or issue.issue_key
    if old_key != move.new_key:
        issue.issue_key = move.new_key
        await tickets.history(_text(f"Jira issue moved from {old_key} to {move.new_key}"))
        report.changes.append(f"moved {old_key} -> {move.new_key}")
    await _apply_product(tickets, move.project_key, move.project_name, report, True)


async def _apply_product(
    tickets: LinkedTickets,
    project_key: str,
    project_name: str | None,
    report: ApplyReport,
    log_unmatched: bool,
) -> None:
    session = tickets.session
    rows = await session.scalars(
        select(Product).where(
            or_(
                func.lower(Product.jira_project_key) == project_key.lower(),
                func.lower(Product.name) == (project_name or project_key).lower(),
            )
        )
    )
    options = [
        ProductOption(p.id or 0, p.name, p.jira_project_key, p.jira_instance_id) for p in rows
    ]
    target = target_product(options, tickets.instance.id or 0, project_key, project_name)
    if target is None:
        if log_unmatched:
            message = (
                f"Jira project {project_key} ({project_name or 'unnamed'}) matches no product; "
                "product unchanged"
            )
            report.notes.append(message)
            await tickets.log("jira.project", message, error=True)
        return
    new_name = next(o.name for o in options if o.id == target)
    other = or_(col(Ticket.product_id).is_(None), col(Ticket.product_id) != target)
    old = aliased(Product)
    await tickets.history(
        _text("Product changed from ")
        + func.coalesce(old.name, "(none)")
        + _text(f" to {new_name} by {ACTOR}"),
        other,
        joins=((old, old.id == Ticket.product_id, True),),
    )
    result = await session.execute(
        sa_update(Ticket)
        .where(tickets.linked, other)
        .values(product_id=target, reported_version_id=None)
    )
    if getattr(result, "rowcount", 0):
        report.changes.append(f"product -> {new_name}")


async def _apply_fields(
    tickets: LinkedTickets, fields: dict[str, tuple[str, Any]], report: ApplyReport
) -> None:
    session = tickets.session
    mappings = list(
        await session.scalars(
            select(JiraMapping).where(
                col(JiraMapping.instance_id) == tickets.instance.id,
                col(JiraMapping.mapping_type) == MappingType.TICKET,
            )
        )
    )
    if not mappings:
        return
    customs = {c.name.casefold(): c for c in await session.scalars(select(CustomField))}
    for mapping in mappings:
        found = fields.get(mapping.jira_field.casefold())
        if found is None:
            continue
        jira_name, raw = found
        target = mapping.teamsupport_field
        custom = customs.get(target.casefold())
        if custom is not None:
            value = multi_value_text(jira_value(raw), custom.field_type)
            try:
                stored = to_stored(custom.field_type, custom.pick_list_values, value)
            except FieldValueError as exc:
                message = f"Jira field {jira_name!r} value {value!r} for {custom.name}: {exc}"
                report.errors.append(message)
                await tickets.error("jira.field", message)
                continue
            if await _set_custom(tickets, custom, stored):
                report.changes.append(f"{custom.name} -> {stored or '(empty)'}")
            continue
        builtin = BUILTIN_TICKET_FIELDS.get(target.casefold())
        if builtin is None:
            message = f"Mapping of Jira field {jira_name!r} names no ticket field {target!r}"
            report.errors.append(message)
            await tickets.log("jira.field", message, error=True)
            continue
        text = str(multi_value_text(jira_value(raw), "Text") or "")
        if await _set_builtin(tickets, builtin, text):
            report.changes.append(f"{builtin} changed")


async def _set_custom(tickets: LinkedTickets, custom: CustomField, stored: str | None) -> bool:
    session = tickets.session
    value = aliased(TicketCustomValue)
    on = and_(col(value.ticket_id) == Ticket.id, col(value.custom_field_id) == custom.id)
    in_linked = col(TicketCustomValue.ticket_id).in_(tickets.ids())
    of_field = col(TicketCustomValue.custom_field_id) == custom.id
    if stored is None:
        await tickets.history(
            _text(f"{custom.name} changed from ") + value.value + _text(f" to (empty) by {ACTOR}"),
            joins=((value, on, False),),
        )
        result = await session.execute(delete(TicketCustomValue).where(of_field, in_linked))
        return bool(getattr(result, "rowcount", 0))
    differs = or_(col(value.value).is_(None), col(value.value) != stored)
    await tickets.history(
        _text(f"{custom.name} changed from ")
        + func.coalesce(value.value, "(empty)")
        + _text(f" to {stored} by {ACTOR}"),
        differs,
        joins=((value, on, True),),
    )
    updated = await session.execute(
        sa_update(TicketCustomValue)
        .where(of_field, in_linked, col(TicketCustomValue.value) != stored)
        .values(value=stored)
    )
    missing = ~select(col(value.ticket_id)).where(on).exists()
    added = await session.execute(
        insert(TicketCustomValue).from_select(
            ["ticket_id", "custom_field_id", "value"],
            select(col(Ticket.id), literal(custom.id), _text(stored)).where(
                tickets.linked, missing
            ),
        )
    )
    return bool(getattr(updated, "rowcount", 0) or getattr(added, "rowcount", 0))


async def _set_builtin(tickets: LinkedTickets, name: str, text: str) -> bool:
    column = col(Ticket.name) if name == "Name" else col(Ticket.description)
    if name == "Name" and not text:
        return False  # a ticket always has a name
    differs = column != text
    description = (
        _text("Name changed from '") + column + _text(f"' to {text!r} by {ACTOR}")
        if name == "Name"
        else _text(f"Description changed by {ACTOR}")
    )
    await tickets.history(description, differs)
    values = {"name": text[:1024]} if name == "Name" else {"description": text}
    result = await tickets.session.execute(
        sa_update(Ticket).where(tickets.linked, differs).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def add_comment(
    session: AsyncSession, instance: JiraInstance, issue: JiraIssue, comment: CommentInfo
) -> int:
    """The comment as an action on every linked ticket that lacks it; returns how many."""
    tickets = LinkedTickets(session, instance, issue)
    before = await _count_comment(session, tickets, comment.id)
    await tickets.add_actions(
        comment.body, comment.author.display_name, comment.id, comment.created
    )
    added = await _count_comment(session, tickets, comment.id) - before
    if added:
        await tickets.touch()
        await tickets.log("jira.comment_created", f"Jira comment {comment.id} added as an action")
    return added


async def _count_comment(session: AsyncSession, tickets: LinkedTickets, comment_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Action)
            .where(
                col(Action.jira_comment_id) == comment_id, col(Action.ticket_id).in_(tickets.ids())
            )
        )
        or 0
    )


async def comment_already_known(session: AsyncSession, issue: JiraIssue, comment_id: str) -> bool:
    """Whether an action of a ticket linked to the issue carries this comment id (an echo of
    our own pushed comment, or a comment already applied)."""
    found = await session.scalar(
        select(col(Action.id))
        .join(Ticket, col(Ticket.id) == Action.ticket_id)
        .where(col(Ticket.jira_issue_ref) == issue.id, col(Action.jira_comment_id) == comment_id)
        .limit(1)
    )
    return found is not None


async def mark_deleted(session: AsyncSession, instance: JiraInstance, issue: JiraIssue) -> int:
    """The issue is gone from Jira: every link goes to Error with a History line."""
    tickets = LinkedTickets(session, instance, issue)
    count = await tickets.count()
    message = f"Jira issue {issue.issue_key} was deleted in Jira; the link is broken"
    await tickets.error("jira.issue_deleted", message)
    await session.execute(
        sa_update(Ticket)
        .where(tickets.linked)
        .values(jira_sync_status=JiraSyncStatus.ERROR, date_modified=tickets.now)
    )
    issue.deleted = True
    session.add(issue)
    return count
