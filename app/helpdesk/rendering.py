"""Ticket answers, assembled with one query per related table for a whole page of tickets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import rows_by_id
from app.helpdesk.custom_fields import all_custom_fields
from app.helpdesk.fields import from_stored
from app.helpdesk.models import Product, Ticket, TicketCustomValue, Version
from app.helpdesk.schemas import TicketOut
from app.helpdesk.statuses import all_statuses
from app.helpdesk.ticket_types import type_names


@dataclass(frozen=True)
class JiraLinkView:
    """How a ticket's Jira link reads in its answer (worked out by the Jira integration)."""

    jira_key: str | None = None
    jira_link_url: str | None = None


NO_LINK = JiraLinkView()


# Built once, bound per call: every ticket answer, and every event about a ticket, reads it.
_CUSTOM_VALUES = select(TicketCustomValue).where(
    col(TicketCustomValue.ticket_id).in_(bindparam("ticket_ids", expanding=True))
)


async def ticket_answers(
    session: AsyncSession,
    tickets: Sequence[Ticket],
    links: Mapping[int, JiraLinkView] | None = None,
) -> list[dict[str, Any]]:
    """The tickets as the API shows them; `links` (by ticket id) fills JiraKey and JiraLinkURL.
    The types, statuses and custom fields are kept configuration (`core/config_cache.py`)."""
    types = await type_names(session, {t.ticket_type_id for t in tickets})
    statuses = await all_statuses(session, {t.status_id for t in tickets})
    products = await rows_by_id(session, Product, {t.product_id for t in tickets})
    versions = await rows_by_id(session, Version, {t.reported_version_id for t in tickets})
    fields = await all_custom_fields(session)
    values: dict[int, dict[str, Any]] = {t.id or 0: {} for t in tickets}
    if tickets and fields:
        rows = list(await session.scalars(_CUSTOM_VALUES, {"ticket_ids": list(values)}))
        fields = await all_custom_fields(session, {row.custom_field_id for row in rows})
        for row in rows:
            field = fields[row.custom_field_id]
            values[row.ticket_id][field.name] = from_stored(field.field_type, row.value)
    answers = []
    for ticket in tickets:
        status = statuses[ticket.status_id]
        product = products.get(ticket.product_id or 0)
        version = versions.get(ticket.reported_version_id or 0)
        link = (links or {}).get(ticket.id or 0, NO_LINK)
        out = TicketOut(
            id=ticket.id or 0,
            ticket_number=ticket.ticket_number,
            name=ticket.name,
            description=ticket.description,
            ticket_type_id=ticket.ticket_type_id,
            ticket_type_name=types[ticket.ticket_type_id],
            status_id=ticket.status_id,
            status=status.name,
            is_closed=status.is_closed,
            product_id=ticket.product_id,
            product_name=product.name if product else None,
            reported_version_id=ticket.reported_version_id,
            reported_version=version.version_number if version else None,
            date_created=ticket.date_created,
            date_modified=ticket.date_modified,
            jira_key=link.jira_key,
            jira_link_url=link.jira_link_url,
            jira_sync_status=ticket.jira_sync_status,
            jira_instance_id=ticket.jira_instance_id,
        )
        answer = out.model_dump(mode="json", by_alias=True)
        for name in sorted(field.name for field in fields.values()):
            answer[name] = values[ticket.id or 0].get(name)
        answers.append(answer)
    return answers
