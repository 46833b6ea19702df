"""A Jira issue's status or issue type reaching its linked tickets. Statuses belong to ticket
types, so each ticket takes its own type's status of that name (else the type's default), and a
ticket given a new type takes a status of the new type."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy import DateTime, Integer, String, bindparam, insert, select
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.core.config_cache import kept_while_unchanged
from app.core.db import is_postgres, table_of
from app.helpdesk import history
from app.helpdesk.models import HistoryEntry, Ticket, TicketStatus, TicketType
from app.helpdesk.statuses import all_statuses
from app.integration.inbound.linked_tickets import (
    ACTOR,
    LINKED_TO_BOUND_ISSUE,
    TICKETS,
    ApplyReport,
    LinkedTickets,
)
from app.integration.inbound.rules import StatusOption, target_status, target_ticket_type
from app.integration.models import JiraMapping, MappingType

_OLD_TYPE = aliased(TicketType)  # built once: an alias is costly to make per statement
_OLD_STATUS = aliased(TicketStatus)

# A status change's statements, built once (each applied status change runs them), bound per
# call by `LinkedTickets.bound`: every type's statuses (`all_status_options`); then per type
# of the linked tickets, a History line for each linked ticket of the type not in the target
# status yet (on the table: see `linked_tickets`), and the change.
_STATUS_OPTIONS = "inbound.status_options"  # the statuses by ticket type
_TO_CHANGE = (
    LINKED_TO_BOUND_ISSUE,
    TICKETS.c.ticket_type_id == bindparam("type_id", type_=Integer),
    TICKETS.c.status_id != bindparam("target", type_=Integer),
)
_STATUS_HISTORY = insert(table_of(HistoryEntry)).from_select(
    ["ticket_id", "description", "date_created"],
    select(
        col(Ticket.id),
        history.STATUS_CHANGED.sql(
            old=_OLD_STATUS.name, new=bindparam("new_name", type_=String), actor=ACTOR
        ),
        bindparam("now", type_=DateTime(timezone=True)),
    )
    .select_from(Ticket)
    .join(_OLD_STATUS, col(_OLD_STATUS.id) == TICKETS.c.status_id)
    .where(*_TO_CHANGE),
)
_SET_STATUS = (
    sa_update(TICKETS)
    .where(*_TO_CHANGE)
    .values(
        status_id=bindparam("target", type_=Integer),
        date_modified=bindparam("now", type_=DateTime(timezone=True)),
    )
)
# PostgreSQL: the same two as one statement (one round trip): the change, returning each
# changed ticket with the name of the status it left, and their History lines from that.
_OLD_STATUS_ROW = table_of(TicketStatus).alias("old_status")
_CHANGED = (
    _SET_STATUS.where(_OLD_STATUS_ROW.c.id == TICKETS.c.status_id)
    .returning(TICKETS.c.id, _OLD_STATUS_ROW.c.name.label("old_name"))
    .cte("changed")
)
_SET_STATUS_WITH_HISTORY = (
    insert(table_of(HistoryEntry))
    .from_select(
        ["ticket_id", "description", "date_created"],
        select(
            _CHANGED.c.id,
            history.STATUS_CHANGED.sql(
                old=_CHANGED.c.old_name, new=bindparam("new_name", type_=String), actor=ACTOR
            ),
            bindparam("now", type_=DateTime(timezone=True)),
        ),
    )
    .add_cte(_CHANGED)
)


async def apply_issue_type(tickets: LinkedTickets, jira_type: str, report: ApplyReport) -> None:
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
    options = await all_status_options(session)
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
    await tickets.history(
        history.TYPE_CHANGED.sql(old=_OLD_TYPE.name, new=types[target], actor=ACTOR),
        other_type,
        joins=((_OLD_TYPE, _OLD_TYPE.id == Ticket.ticket_type_id, False),),
    )
    for old_status, new_status in moves.items():
        await session.execute(
            sa_update(Ticket)
            .where(tickets.linked, other_type, col(Ticket.status_id) == old_status)
            .values(ticket_type_id=target, status_id=new_status)
        )
    tickets.types_changed()
    report.changes.append(f"ticket type -> {types[target]}")


async def all_status_options(session: AsyncSession) -> Mapping[int, tuple[StatusOption, ...]]:
    """Every ticket type's statuses (types without any are left out): a short list, which
    every applied status change asks for, kept while the statuses are unchanged
    (`core/config_cache.py`; else read once per transaction)."""

    async def read() -> Mapping[int, tuple[StatusOption, ...]]:
        options: dict[int, list[StatusOption]] = {}
        for status in (await all_statuses(session)).values():
            options.setdefault(status.ticket_type_id, []).append(
                StatusOption(status.id, status.name, status.is_default)
            )
        return MappingProxyType({type_id: tuple(found) for type_id, found in options.items()})

    return await kept_while_unchanged(session, _STATUS_OPTIONS, read)


async def apply_status(
    tickets: LinkedTickets, jira_from: str | None, jira_to: str, report: ApplyReport
) -> None:
    """Without UpdateTicketStatus the change only becomes an action on each ticket."""
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
    options = await all_status_options(session)
    changed = False
    for type_id in sorted(await tickets.type_ids() & options.keys()):
        target = target_status(options[type_id], jira_to)
        if target is None:
            continue
        new_name = next(o.name for o in options[type_id] if o.id == target)
        values = tickets.bound(type_id=type_id, target=target, new_name=new_name)
        if is_postgres(session):
            result = await session.execute(_SET_STATUS_WITH_HISTORY, values)
        else:
            await session.execute(_STATUS_HISTORY, values)
            result = await session.execute(_SET_STATUS, values)
        rows = int(getattr(result, "rowcount", 0) or 0)
        tickets.modified(rows)
        changed = changed or bool(rows)
    if changed:
        report.changes.append(f"status -> {jira_to}")
