"""A Jira issue deleted in Jira: the links of its tickets are broken, and say so."""

from __future__ import annotations

from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession

from app.helpdesk.events import Origin, changing
from app.helpdesk.models import JiraSyncStatus, Ticket
from app.integration.inbound.linked_tickets import LinkedTickets
from app.integration.models import JiraInstance, JiraIssue


async def mark_deleted(session: AsyncSession, instance: JiraInstance, issue: JiraIssue) -> int:
    """The issue is gone from Jira: every link goes to Error with a History line."""
    tickets = LinkedTickets(session, instance, issue)
    ticket_ids = await tickets.id_list()
    message = f"Jira issue {issue.issue_key} was deleted in Jira; the link is broken"
    async with changing(session, ticket_ids, Origin.JIRA, reason=message):
        await tickets.error("jira.issue_deleted", message)
        await session.execute(
            sa_update(Ticket)
            .where(tickets.linked)
            .values(jira_sync_status=JiraSyncStatus.ERROR, date_modified=tickets.now)
        )
    issue.deleted = True
    session.add(issue)
    return len(ticket_ids)
