"""Jira comments reaching the linked tickets: each becomes one action per ticket, however often
it is delivered (the action keeps the comment's id)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.helpdesk.models import Action, Ticket
from app.integration.inbound.linked_tickets import LinkedTickets
from app.integration.inbound.rules import CommentInfo
from app.integration.models import JiraInstance, JiraIssue


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
