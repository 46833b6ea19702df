"""Jira comments reaching the linked tickets: which are shown (never a private one, nor the echo
of our own), and each as one action per ticket however often it is delivered (the action keeps
the comment's id)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.helpdesk.models import Action, Ticket
from app.integration.inbound.linked_tickets import LinkedTickets
from app.integration.inbound.rules import is_integration_user
from app.integration.models import JiraInstance, JiraIssue
from app.jira.client import JiraClient
from app.jira.deliveries import CommentInfo, EventKind, ParsedDelivery, Privacy
from app.jira.errors import JiraNotFound
from app.jira.formatting import action_html


@dataclass
class CommentPlan:
    comment: CommentInfo
    skip: str | None = None  # why it is not shown (echo, private, already applied)
    check_account: bool = False
    fetch: bool = False


def _plan_comment(instance: JiraInstance, comment: CommentInfo, known: bool) -> CommentPlan:
    plan = CommentPlan(comment)
    if known:
        plan.skip = "its id is already on an action (our own comment, or applied before)"
    elif is_integration_user(comment.author, [instance.user_name]):
        plan.skip = "written by the integration user (our own comment)"
    elif comment.privacy is Privacy.PRIVATE:
        plan.skip = "private (visibility restricted, or an internal note)"
    else:
        plan.check_account = comment.author.account_id is not None
        # Jira's rendering of the comment (its formatting, mentions as names) is read for every
        # comment shown, and with it whatever the payload did not tell of its audience.
        plan.fetch = True
    return plan


async def comment_plan(
    session: AsyncSession, instance: JiraInstance, issue: JiraIssue, parsed: ParsedDelivery
) -> CommentPlan | None:
    if parsed.comment is None or parsed.kind not in (
        EventKind.COMMENT_CREATED,
        EventKind.ISSUE_UPDATED,
    ):
        return None
    known = await comment_already_known(session, issue, parsed.comment.id)
    return _plan_comment(instance, parsed.comment, known)


def needs_jira_check(plan: CommentPlan | None) -> bool:
    return plan is not None and plan.skip is None and (plan.check_account or plan.fetch)


async def check_comment_in_jira(client: JiraClient, issue_id: str, plan: CommentPlan) -> None:
    """Ask Jira what the payload cannot tell: our own account id, the comment's audience, and
    its formatting (Jira's rendered HTML, made safe, becomes the action's text)."""
    if plan.check_account:
        me = await client.myself_cached()
        identities = [me.name or "", me.key or "", me.email_address or "", me.account_id or ""]
        if is_integration_user(plan.comment.author, identities):
            plan.skip = "written by the integration user (our own comment)"
            return
    if plan.fetch:
        try:
            fetched = await client.get_comment(
                issue_id, plan.comment.id, expand=["properties", "renderedBody"]
            )
        except JiraNotFound:
            plan.skip = "no longer exists in Jira"
            return
        if fetched.privacy() is Privacy.PRIVATE:
            plan.skip = "private (visibility restricted, or an internal note)"
        elif fetched.rendered_body:
            plan.comment = replace(plan.comment, body=action_html(fetched.rendered_body))


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
