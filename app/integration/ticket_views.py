"""Tickets as the ticket API shows them: the helpdesk's answer with its Jira link filled in.

`JiraKey` is the linked issue's current key (or the requested one while the link is Pending or
in Error); `JiraLinkURL` is the issue's page in Jira once the ticket is linked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import rows_by_id
from app.helpdesk import tickets
from app.helpdesk.models import JiraSyncStatus, Ticket
from app.helpdesk.rendering import JiraLinkView, ticket_answers
from app.integration.models import JiraInstance, JiraIssue, LogStatus, SyncLog


def jira_link_url(host_name: str, key: str) -> str:
    return f"{host_name.rstrip('/')}/browse/{key}"


async def jira_links(session: AsyncSession, rows: Sequence[Ticket]) -> dict[int, JiraLinkView]:
    issues = await rows_by_id(session, JiraIssue, (t.jira_issue_ref for t in rows))
    instances = await rows_by_id(session, JiraInstance, (t.jira_instance_id for t in rows))
    links: dict[int, JiraLinkView] = {}
    for ticket in rows:
        issue = issues.get(ticket.jira_issue_ref or 0)
        instance = instances.get(ticket.jira_instance_id or 0)
        linked = issue is not None and ticket.jira_sync_status != JiraSyncStatus.NONE
        links[ticket.id or 0] = JiraLinkView(
            jira_key=issue.issue_key if issue else ticket.jira_requested_key,
            jira_link_url=jira_link_url(instance.host_name, issue.issue_key)
            if linked and instance is not None and issue is not None and instance.host_name
            else None,
        )
    return links


async def ticket_views(session: AsyncSession, rows: Sequence[Ticket]) -> list[dict[str, Any]]:
    return await ticket_answers(session, rows, await jira_links(session, rows))


async def ticket_page(
    session: AsyncSession,
    filters: tickets.TicketFilters,
    jira_key: str | None,
    page: int,
    size: int,
) -> tuple[list[dict[str, Any]], int]:
    """One page of tickets matching the filters (and linked to the issue `jira_key`, if given),
    and how many match in all."""
    if jira_key:
        refs = await session.scalars(
            select(col(JiraIssue.id)).where(func.upper(JiraIssue.issue_key) == jira_key.upper())
        )
        filters = replace(filters, jira_issue_refs=[ref for ref in refs if ref is not None])
    if filters.search and filters.search.strip():
        text = filters.search.strip().upper()
        refs = await session.scalars(
            select(col(JiraIssue.id)).where(
                func.upper(JiraIssue.issue_key).contains(text, autoescape=True)
            )
        )
        filters = replace(filters, search_issue_refs=[ref for ref in refs if ref is not None])
    rows, total = await tickets.list_tickets(session, filters, page, size)
    return await ticket_views(session, rows), total


async def last_sync_error(session: AsyncSession, ticket_id: int) -> str | None:
    """Why a ticket's sync is in Error: its most recent error line."""
    message = await session.scalar(
        select(col(SyncLog.message))
        .where(col(SyncLog.ticket_id) == ticket_id, col(SyncLog.status) == LogStatus.ERROR)
        .order_by(col(SyncLog.id).desc())
        .limit(1)
    )
    return str(message) if message is not None else None
