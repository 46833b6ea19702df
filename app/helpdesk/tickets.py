"""Tickets: create, change, list and delete, with references by ID or by name, custom fields as
elements, sequential ticket numbers and a History line for every change."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.errors import BadRequest
from app.core.events import publish
from app.helpdesk import history, references
from app.helpdesk.events import JiraKeyRequested, Origin, changing
from app.helpdesk.fields import FieldValueError, to_stored
from app.helpdesk.history import add_history
from app.helpdesk.models import (
    Action,
    Counter,
    CustomField,
    HistoryEntry,
    Product,
    Ticket,
    TicketCustomValue,
    TicketStatus,
    TicketType,
    Version,
)
from app.helpdesk.schemas import TicketInput


@dataclass(frozen=True)
class TicketFilters:
    status: str | None = None
    product_id: int | None = None
    ticket_type_id: int | None = None
    # Tickets linked to one of these Jira issue rows (the integration resolves a JiraKey to them).
    jira_issue_refs: Collection[int] | None = None
    date_modified_since: datetime | None = None
    # A ticket number, a part of the name, or (resolved by the integration) linked issues.
    search: str | None = None
    search_issue_refs: Collection[int] = ()
    jira_sync_status: str | None = None


async def next_ticket_number(session: AsyncSession) -> int:
    number = await session.scalar(
        update(Counter)
        .where(col(Counter.name) == "ticket_number")
        .values(value=col(Counter.value) + 1)
        .returning(col(Counter.value))
    )
    assert number is not None, "the ticket_number counter is created by the first migration"
    return int(number)


def split_elements(
    elements: dict[str, Any], custom_fields: list[CustomField]
) -> tuple[dict[str, Any], dict[int, Any]]:
    """Separate built-in ticket elements from custom field elements (matched by name)."""
    known = {(f.alias or n).lower() for n, f in TicketInput.model_fields.items()}
    by_name: dict[str, CustomField] = {}
    for custom in custom_fields:
        by_name[custom.name.lower()] = custom
        by_name[custom.name.lower().replace(" ", "_")] = custom
    builtin: dict[str, Any] = {}
    custom_values: dict[int, Any] = {}
    for key, value in elements.items():
        if key.lower() in known:
            builtin[key] = value
        elif key.lower() in by_name:
            custom_values[by_name[key.lower()].id or 0] = value
        else:
            builtin[key] = value  # validation names it as an unknown element
    return builtin, custom_values


async def all_custom_fields(session: AsyncSession) -> list[CustomField]:
    return list((await session.scalars(select(CustomField).order_by(col(CustomField.id)))).all())


async def create_ticket(
    session: AsyncSession,
    data: TicketInput,
    custom: dict[int, Any],
    actor: str,
    origin: Origin = Origin.API,
) -> Ticket:
    if not data.name:
        raise BadRequest("Ticket needs Name.")
    ticket_type = await references.ticket_type(session, data)
    if ticket_type is None:
        raise BadRequest("Ticket needs TicketTypeID or TicketTypeName.")
    status = await references.status(session, data, ticket_type)
    product = await references.product(session, data)
    version = await references.version(session, data, product)
    ticket = Ticket(
        ticket_number=await next_ticket_number(session),
        name=data.name,
        description=data.description or "",
        ticket_type_id=ticket_type.id or 0,
        status_id=status.id or 0,
        product_id=product.id if product else None,
        reported_version_id=version.id if version else None,
    )
    session.add(ticket)
    await session.flush()
    await _store_custom_values(session, ticket, custom, actor, announce=False)
    await add_history(session, ticket.id or 0, history.TICKET_CREATED.text(actor=actor))
    await _announce_jira_key(session, ticket, data, actor, origin)
    return ticket


async def update_ticket(
    session: AsyncSession,
    ticket: Ticket,
    data: TicketInput,
    custom: dict[int, Any],
    actor: str,
    origin: Origin = Origin.API,
) -> Ticket:
    async with changing(session, [ticket.id or 0], origin):
        await _change_fields(session, ticket, data, custom, actor)
    await _announce_jira_key(session, ticket, data, actor, origin)
    return ticket


async def _change_fields(
    session: AsyncSession, ticket: Ticket, data: TicketInput, custom: dict[int, Any], actor: str
) -> None:
    given = data.model_fields_set
    changes: list[str] = []
    if "name" in given:
        if not data.name:
            raise BadRequest("Name cannot be empty.")
        if data.name != ticket.name:
            changes.append(history.NAME_CHANGED.text(old=ticket.name, new=data.name, actor=actor))
            ticket.name = data.name
    if "description" in given and (data.description or "") != ticket.description:
        changes.append(history.DESCRIPTION_CHANGED.text(actor=actor))
        ticket.description = data.description or ""
    old_type = await session.get(TicketType, ticket.ticket_type_id)
    new_type = await references.ticket_type(session, data) or old_type
    assert new_type is not None
    assert old_type is not None
    if new_type.id != old_type.id:
        changes.append(history.TYPE_CHANGED.text(old=old_type.name, new=new_type.name, actor=actor))
        ticket.ticket_type_id = new_type.id or 0
    if {"status_id", "status"} & given or new_type.id != old_type.id:
        old_status = await session.get(TicketStatus, ticket.status_id)
        new_status = await references.status(session, data, new_type)
        if old_status is None or new_status.id != old_status.id:
            old_name = old_status.name if old_status else "?"
            changes.append(
                history.STATUS_CHANGED.text(old=old_name, new=new_status.name, actor=actor)
            )
            ticket.status_id = new_status.id or 0
    if {"product_id", "product_name"} & given:
        product = await references.product(session, data)
        if (product.id if product else None) != ticket.product_id:
            old = await session.get(Product, ticket.product_id) if ticket.product_id else None
            changes.append(
                history.PRODUCT_CHANGED.text(old=_name(old), new=_name(product), actor=actor)
            )
            ticket.product_id = product.id if product else None
            if not ({"reported_version_id", "reported_version"} & given):
                ticket.reported_version_id = None
    if {"reported_version_id", "reported_version"} & given:
        product = await session.get(Product, ticket.product_id) if ticket.product_id else None
        version = await references.version(session, data, product)
        if (version.id if version else None) != ticket.reported_version_id:
            old_version = (
                await session.get(Version, ticket.reported_version_id)
                if ticket.reported_version_id
                else None
            )
            changes.append(
                history.VERSION_CHANGED.text(
                    old=_version_name(old_version), new=_version_name(version), actor=actor
                )
            )
            ticket.reported_version_id = version.id if version else None
    for change in changes:
        await add_history(session, ticket.id or 0, change)
    custom_changed = await _store_custom_values(session, ticket, custom, actor, announce=True)
    if changes or custom_changed:
        ticket.date_modified = utcnow()
        session.add(ticket)
        await session.flush()


async def _announce_jira_key(
    session: AsyncSession, ticket: Ticket, data: TicketInput, actor: str, origin: Origin
) -> None:
    """`JiraKey` given: the Jira integration checks it now and links later (answer: Pending)."""
    if "jira_key" in data.model_fields_set:
        event = JiraKeyRequested(
            ticket.id or 0, data.jira_key, data.jira_instance_id, actor, origin
        )
        await publish(session, event)


async def delete_ticket(session: AsyncSession, ticket: Ticket) -> None:
    for model in (TicketCustomValue, Action, HistoryEntry):
        await session.execute(delete(model).where(col(model.ticket_id) == ticket.id))
    await session.delete(ticket)
    await session.flush()


def filtered_query(filters: TicketFilters) -> Select[Any]:
    query = select(Ticket)
    if filters.status:
        query = query.join(TicketStatus, col(TicketStatus.id) == Ticket.status_id).where(
            func.lower(TicketStatus.name) == filters.status.lower()
        )
    if filters.product_id is not None:
        query = query.where(col(Ticket.product_id) == filters.product_id)
    if filters.ticket_type_id is not None:
        query = query.where(col(Ticket.ticket_type_id) == filters.ticket_type_id)
    if filters.jira_issue_refs is not None:
        query = query.where(col(Ticket.jira_issue_ref).in_(list(filters.jira_issue_refs)))
    if filters.date_modified_since is not None:
        query = query.where(col(Ticket.date_modified) >= filters.date_modified_since)
    if filters.jira_sync_status:
        query = query.where(col(Ticket.jira_sync_status) == filters.jira_sync_status)
    if filters.search:
        text = filters.search.strip()
        matches = [func.lower(Ticket.name).contains(text.lower(), autoescape=True)]
        if text.isdigit() and len(text) < 19:
            matches.append(col(Ticket.ticket_number) == int(text))
        if filters.search_issue_refs:
            matches.append(col(Ticket.jira_issue_ref).in_(list(filters.search_issue_refs)))
        query = query.where(or_(*matches))
    return query


async def list_tickets(
    session: AsyncSession, filters: TicketFilters, page: int, size: int
) -> tuple[list[Ticket], int]:
    query = filtered_query(filters)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(col(Ticket.id)).offset((page - 1) * size).limit(size)
    )
    return list(rows.all()), total


async def _store_custom_values(
    session: AsyncSession, ticket: Ticket, custom: dict[int, Any], actor: str, announce: bool
) -> bool:
    changed = False
    for field_id, raw in custom.items():
        field = await session.get(CustomField, field_id)
        assert field is not None
        try:
            stored = to_stored(field.field_type, field.pick_list_values, raw)
        except FieldValueError as exc:
            raise BadRequest(f"{field.name} {exc}.") from exc
        current = await session.get(TicketCustomValue, (ticket.id, field_id))
        old = current.value if current else None
        if old == stored:
            continue
        changed = True
        if stored is None and current is not None:
            await session.delete(current)
        elif current is not None and stored is not None:
            current.value = stored
        elif stored is not None:
            session.add(
                TicketCustomValue(ticket_id=ticket.id or 0, custom_field_id=field_id, value=stored)
            )
        if announce:
            await add_history(
                session,
                ticket.id or 0,
                history.FIELD_CHANGED.text(
                    field=field.name,
                    old=old or history.EMPTY,
                    new=stored or history.EMPTY,
                    actor=actor,
                ),
            )
    await session.flush()
    return changed


def _name(item: Product | None) -> str:
    return item.name if item else history.NONE


def _version_name(item: Version | None) -> str:
    return item.version_number if item else history.NONE
