"""Ticket actions → Jira comments (`jira.push_comment`).

An action created on a linked (or being-linked) ticket whose type passes ActionTypeToPush is
queued in the same transaction; the job posts one comment carrying a `helpdesk-sync` property
that names the action, and stores the comment's id on the action at once. After a create whose
outcome is unknown (or on any retry) the issue's comments are searched for that property first,
so a comment is never posted twice. Actions from Jira are never pushed; edits are not pushed.
An action not visible on the portal goes as an internal comment (`sd.public.comment`), so a
Jira Service Management customer never sees it; an action's HTML goes as wiki markup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Integer, String, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import table_of, utcnow
from app.helpdesk.events import ActionCreated
from app.helpdesk.models import Action, JiraSyncStatus, Ticket
from app.integration.access import jira_client
from app.integration.job_kinds import CheckLateComment, PushComment
from app.integration.models import Direction, JiraInstance, JiraIssue
from app.integration.outbound.failures import look_again_later, report_failure, retry_error
from app.integration.outbound.rules import SYNC_PROPERTY, should_push_action
from app.integration.services import JobContext
from app.integration.sync_logs import log_sync, log_ticket_error
from app.jira.audience import SD_PUBLIC_COMMENT, audience_property
from app.jira.client import JiraClient
from app.jira.errors import JiraAmbiguousResult, JiraError
from app.jira.formatting import action_text, escape_wiki
from app.jira.schemas import Comment
from app.jobs import outbox as jobs
from app.jobs.kinds import Failure, FailureReason, Job, JobError

COMMENT_PAGE = 100


async def enqueue_if_pushed(session: AsyncSession, ticket: Ticket, action: Action) -> bool:
    """Queue the action's comment when the rules say it goes to Jira; same transaction."""
    push_type_id = None
    if ticket.jira_instance_id is not None:
        instance = await session.get(JiraInstance, ticket.jira_instance_id)
        push_type_id = instance.action_type_to_push_id if instance else None
    if not should_push_action(
        source=action.source,
        action_type_id=action.action_type_id,
        push_type_id=push_type_id,
        link_status=ticket.jira_sync_status,
    ):
        return False
    await jobs.enqueue(session, PushComment(ticket_id=ticket.id or 0, action_id=action.id or 0))
    return True


async def on_action_created(session: AsyncSession, event: ActionCreated) -> None:
    ticket = await session.get(Ticket, event.ticket_id)
    action = await session.get(Action, event.action_id)
    if ticket is not None and action is not None:
        await enqueue_if_pushed(session, ticket, action)


def comment_body(description: str, creator_name: str) -> str:
    """The comment's wiki markup: the action's HTML converted (plain text as it is), signed."""
    text = action_text(description)
    author = creator_name.strip()
    return f"{text}\n\n— {escape_wiki(author)} (helpdesk)" if author else text


def _made_for(comment: Comment, action_id: int) -> bool:
    for prop in comment.properties:
        if prop.key == SYNC_PROPERTY and isinstance(prop.value, dict):
            if prop.value.get("actionId") == action_id:
                return True
    return False


async def comments_made_for(
    client: JiraClient, issue: str, action_id: int
) -> AsyncIterator[Comment]:
    """The comments attempts of this action's push posted (their property names the action)."""
    start = 0
    while True:
        page = await client.list_comments(
            issue, start_at=start, max_results=COMMENT_PAGE, expand=["properties"]
        )
        for comment in page.comments:
            if _made_for(comment, action_id):
                yield comment
        start += len(page.comments)
        if not page.comments or start >= page.total:
            return


async def find_earlier_comment(client: JiraClient, issue: str, action_id: int) -> Comment | None:
    """The comment an earlier attempt posted for this action."""
    async for comment in comments_made_for(client, issue, action_id):
        return comment
    return None


@dataclass(frozen=True, slots=True)
class PushSource:
    """What a push reads before calling Jira: the action, its ticket's link, the instance."""

    description: str
    creator_name: str
    visible_on_portal: bool
    comment_id: str | None
    link_status: str
    instance_id: int | None
    issue_id: str | None
    issue_key: str | None
    instance: JiraInstance | None


# A push's own statements, built once and bound per job (making them cost more than running
# them): what it reads, in one query, plain columns but for the instance; and the comment's id
# kept on the action (on the table: nothing loaded needs the ORM's update).
_PUSH_SOURCE = (
    select(
        col(Action.description),
        col(Action.creator_name),
        col(Action.is_visible_on_portal),
        col(Action.jira_comment_id),
        col(Ticket.jira_sync_status),
        col(Ticket.jira_instance_id),
        col(JiraIssue.issue_id),
        col(JiraIssue.issue_key),
        JiraInstance,
    )
    .select_from(Ticket)
    .join(Action, col(Action.id) == bindparam("action_id", type_=Integer))
    .outerjoin(JiraIssue, col(JiraIssue.id) == Ticket.jira_issue_ref)
    .outerjoin(JiraInstance, col(JiraInstance.id) == Ticket.jira_instance_id)
    .where(col(Ticket.id) == bindparam("ticket_id", type_=Integer))
)
_ACTIONS = table_of(Action)
_KEEP_COMMENT_ID = (
    update(_ACTIONS)
    .where(_ACTIONS.c.id == bindparam("action_id", type_=Integer))
    .values(jira_comment_id=bindparam("comment_id", type_=String))
)


async def load_push(session: AsyncSession, ticket_id: int, action_id: int) -> PushSource | None:
    """None: the ticket or the action is gone."""
    values = {"ticket_id": ticket_id, "action_id": action_id}
    row = (await session.execute(_PUSH_SOURCE, values)).one_or_none()
    return None if row is None else PushSource(*row)


async def run_push_comment(ctx: JobContext, job: Job[PushComment]) -> None:
    ticket_id = job.payload.ticket_id
    action_id = job.payload.action_id
    async with ctx.transaction() as session:
        source = await load_push(session, ticket_id, action_id)
        if source is None or source.comment_id is not None:
            await ctx.finish_in(session, job.id)
            return  # deleted meanwhile, or already pushed by an earlier attempt
        instance = source.instance
        issue_id, issue_key = source.issue_id, source.issue_key
        linked = source.link_status == JiraSyncStatus.LINKED
        if not linked or issue_id is None or issue_key is None or instance is None:
            await log_sync(
                session,
                instance_id=source.instance_id,
                direction=Direction.TO_JIRA,
                event="push_comment",
                message=f"Action {action_id} not pushed: the ticket is not linked to Jira "
                f"(link status {source.link_status})",
                ticket_id=ticket_id,
            )
            await ctx.finish_in(session, job.id)
            return
        body = comment_body(source.description, source.creator_name)
        properties = {
            SYNC_PROPERTY: {"actionId": action_id, "ticketId": ticket_id},
            # Not visible on the portal: an internal note on a Service Management issue (on a
            # Jira Software issue the property changes nothing: every comment is for the team).
            SD_PUBLIC_COMMENT: audience_property(internal=not source.visible_on_portal),
        }
    late = ctx.settings.jira_late_write_seconds
    try:
        async with jira_client(ctx.services, instance) as client:
            earlier = None
            if job.attempts > 1:
                earlier = await find_earlier_comment(client, issue_id, action_id)
            comment = earlier or await client.add_comment(issue_id, body, properties=properties)
    except JiraAmbiguousResult as exc:
        raise look_again_later(exc, "comment", made="added", making="adding", after=late) from exc
    except JiraError as exc:
        if (again := retry_error(exc)) is not None:
            raise again from exc
        async with ctx.transaction() as session:
            message = await report_failure(
                session,
                exc,
                instance_id=instance.id,
                ticket_id=ticket_id,
                event="push_comment",
                jira_key=issue_key,
                subject=f"Jira issue {issue_key}",
            )
        raise JobError(message, transient=False) from exc
    async with ctx.transaction() as session:
        await session.execute(_KEEP_COMMENT_ID, {"action_id": action_id, "comment_id": comment.id})
        if job.attempts > 1 and earlier is None:  # an earlier attempt may yet be applied late
            check = CheckLateComment(
                ticket_id=ticket_id,
                action_id=action_id,
                instance_id=instance.id or 0,
                issue_id=issue_id,
                issue_key=issue_key,
                kept_comment_id=comment.id,
            )
            await jobs.enqueue(session, check, run_after=utcnow() + timedelta(seconds=late))
        await log_sync(
            session,
            instance_id=instance.id,
            direction=Direction.TO_JIRA,
            event="push_comment",
            message=f"Action {action_id} added to {issue_key} as comment {comment.id}"
            + (" (found from an earlier attempt)" if earlier else ""),
            ticket_id=ticket_id,
            jira_key=issue_key,
        )
        await ctx.finish_in(session, job.id)  # done exactly when the comment's id is kept


async def on_push_failed(ctx: JobContext, job: Job[PushComment], failure: Failure) -> None:
    """Transient failures the worker stopped retrying become the ticket's error."""
    if failure.reason is not FailureReason.GAVE_UP:
        return  # permanent failures were reported by the job itself
    async with ctx.transaction() as session:
        ticket = await session.get(Ticket, job.payload.ticket_id)
        if ticket is None:
            return
        await log_ticket_error(
            session,
            instance_id=ticket.jira_instance_id,
            ticket_id=ticket.id or 0,
            direction=Direction.TO_JIRA,
            event="push_comment",
            message=f"Action {job.payload.action_id} was not added to Jira: {failure.message}",
        )
