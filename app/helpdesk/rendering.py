"""Ticket answers, assembled with one query per related table for a whole page of tickets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.helpdesk.fields import from_stored
from app.helpdesk.models import (
    CustomField,
    JiraSyncStatus,
    Product,
    Ticket,
    TicketCustomValue,
    TicketStatus,
    TicketType,
    Version,
)
from app.helpdesk.schemas import TicketOut
from app.integration.models import JiraInstance, JiraIssue


def jira_link_url(host_name: str, key: str) -> str:
    return f"{host_name.rstrip('/')}/browse/{key}"


async def _by_id(session: AsyncSession, model: type[Any], ids: set[int | None]) -> dict[int, Any]:
    wanted = {ident for ident in ids if ident is not None}
    if not wanted:
        return {}
    rows = await session.scalars(select(model).where(model.id.in_(wanted)))
    return {row.id: row for row in rows}


async def ticket_answers(session: AsyncSession, tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    types = await _by_id(session, TicketType, {t.ticket_type_id for t in tickets})
    statuses = await _by_id(session, TicketStatus, {t.status_id for t in tickets})
    products = await _by_id(session, Product, {t.product_id for t in tickets})
    versions = await _by_id(session, Version, {t.reported_version_id for t in tickets})
    issues = await _by_id(session, JiraIssue, {t.jira_issue_ref for t in tickets})
    instances = await _by_id(session, JiraInstance, {t.jira_instance_id for t in tickets})
    fields = {f.id: f for f in (await session.scalars(select(CustomField))).all()}
    values: dict[int, dict[str, Any]] = {t.id or 0: {} for t in tickets}
    if tickets and fields:
        rows = await session.scalars(
            select(TicketCustomValue).where(col(TicketCustomValue.ticket_id).in_(list(values)))
        )
        for row in rows:
            field = fields[row.custom_field_id]
            values[row.ticket_id][field.name] = from_stored(field.field_type, row.value)
    answers = []
    for ticket in tickets:
        status = statuses[ticket.status_id]
        product = products.get(ticket.product_id or 0)
        version = versions.get(ticket.reported_version_id or 0)
        issue = issues.get(ticket.jira_issue_ref or 0)
        instance = instances.get(ticket.jira_instance_id or 0)
        key = issue.issue_key if issue else ticket.jira_requested_key
        linked = issue is not None and ticket.jira_sync_status != JiraSyncStatus.NONE
        out = TicketOut(
            id=ticket.id or 0,
            ticket_number=ticket.ticket_number,
            name=ticket.name,
            description=ticket.description,
            ticket_type_id=ticket.ticket_type_id,
            ticket_type_name=types[ticket.ticket_type_id].name,
            status_id=ticket.status_id,
            status=status.name,
            is_closed=status.is_closed,
            product_id=ticket.product_id,
            product_name=product.name if product else None,
            reported_version_id=ticket.reported_version_id,
            reported_version=version.version_number if version else None,
            date_created=ticket.date_created,
            date_modified=ticket.date_modified,
            jira_key=key,
            jira_link_url=jira_link_url(instance.host_name, issue.issue_key)
            if linked and instance and issue and instance.host_name
            else None,
            jira_sync_status=ticket.jira_sync_status,
            jira_instance_id=ticket.jira_instance_id,
        )
        answer = out.model_dump(mode="json", by_alias=True)
        for name in sorted(fields[f].name for f in fields):
            answer[name] = values[ticket.id or 0].get(name)
        answers.append(answer)
    return answers
