"""Mapped Jira fields reaching the linked tickets: a `Ticket` mapping names a custom field or a
built-in one (Name, Description); a value the custom field refuses is an error for that field
only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.helpdesk import history
from app.helpdesk.fields import FieldValueError, to_stored
from app.helpdesk.models import CustomField, Ticket, TicketCustomValue
from app.integration.inbound.linked_tickets import ACTOR, ApplyReport, LinkedTickets, text_value
from app.integration.inbound.rules import BUILTIN_TICKET_FIELDS, jira_value, multi_value_text
from app.integration.models import JiraMapping, MappingType

_VALUE = aliased(TicketCustomValue)  # built once: an alias is costly to make per statement


async def apply_fields(
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
    on = and_(col(_VALUE.ticket_id) == Ticket.id, col(_VALUE.custom_field_id) == custom.id)
    in_linked = col(TicketCustomValue.ticket_id).in_(tickets.ids())
    of_field = col(TicketCustomValue.custom_field_id) == custom.id
    if stored is None:
        await tickets.history(
            history.FIELD_CHANGED.sql(
                field=custom.name, old=_VALUE.value, new=history.EMPTY, actor=ACTOR
            ),
            joins=((_VALUE, on, False),),
        )
        result = await session.execute(delete(TicketCustomValue).where(of_field, in_linked))
        return bool(getattr(result, "rowcount", 0))
    differs = or_(col(_VALUE.value).is_(None), col(_VALUE.value) != stored)
    await tickets.history(
        history.FIELD_CHANGED.sql(
            field=custom.name,
            old=func.coalesce(_VALUE.value, history.EMPTY),
            new=stored,
            actor=ACTOR,
        ),
        differs,
        joins=((_VALUE, on, True),),
    )
    updated = await session.execute(
        sa_update(TicketCustomValue)
        .where(of_field, in_linked, col(TicketCustomValue.value) != stored)
        .values(value=stored)
    )
    missing = ~select(col(_VALUE.ticket_id)).where(on).exists()
    added = await session.execute(
        insert(TicketCustomValue).from_select(
            ["ticket_id", "custom_field_id", "value"],
            select(col(Ticket.id), literal(custom.id), text_value(stored)).where(
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
        history.NAME_CHANGED.sql(old=column, new=text, actor=ACTOR)
        if name == "Name"
        else history.DESCRIPTION_CHANGED.sql(actor=ACTOR)
    )
    await tickets.history(description, differs)
    values = {"name": text[:1024]} if name == "Name" else {"description": text}
    result = await tickets.session.execute(
        sa_update(Ticket).where(tickets.linked, differs).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))
