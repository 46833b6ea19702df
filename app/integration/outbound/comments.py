"""Ticket actions → Jira comments (`jira.push_comment`).

An action created on a linked (or being-linked) ticket whose type passes ActionTypeToPush is
queued in the same transaction; the job posts one comment carrying a `helpdesk-sync` property
that names the action, and stores the comment's id on the action at once. After a create whose
outcome is unknown (or on any retry) the issue's comments are searched for that property first,
so a comment is never posted twice. The actions of one ticket queued together (a burst) are
posted by one job, one after the other in order (`run_push_comment`). Actions from Jira are never
pushed; edits are not pushed.
An action not visible on the portal goes as an internal comment (`sd.public.comment`), so a
Jira Service Management customer never sees it; an action's HTML goes as wiki markup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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
from app.integration.sync_logs import SyncLine, log_sync_lines, log_ticket_error
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


# At most this many comments of one ticket, queued together (a burst), are posted by one job:
# one after the other, in order, as their own jobs would; the claim, the reads and the writes
# are made once for all of them.
PUSH_TOGETHER = 16


@dataclass(frozen=True, slots=True)
class PushSource:
    """What a push reads before calling Jira: the action, its ticket's link, the instance."""

    action_id: int
    description: str
    creator_name: str
    visible_on_portal: bool
    comment_id: str | None
    link_status: str
    instance_id: int | None
    issue_id: str | None
    issue_key: str | None
    instance: JiraInstance | None

    def target(self) -> tuple[JiraInstance, str, str] | None:
        """The instance and the issue (id, key) the comment goes to; None: not linked."""
        if self.link_status != JiraSyncStatus.LINKED:
            return None
        if self.instance is None or self.issue_id is None or self.issue_key is None:
            return None
        return self.instance, self.issue_id, self.issue_key


@dataclass(frozen=True, slots=True)
class Posted:
    push: Job[PushComment]
    comment: Comment
    found_earlier: bool


# A push's own statements, built once and bound per job (making them cost more than running
# them): what it reads, in one query, plain columns but for the instance; and the comment's id
# kept on the action (on the table: nothing loaded needs the ORM's update).
_PUSH_SOURCE = (
    select(
        col(Action.id),
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
    .join(Action, col(Action.id).in_(bindparam("action_ids", expanding=True)))
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


async def load_pushes(
    session: AsyncSession, ticket_id: int, action_ids: list[int]
) -> dict[int, PushSource]:
    """By action id; an action (or the ticket) gone is missing."""
    values = {"ticket_id": ticket_id, "action_ids": action_ids}
    rows: list[tuple[Any, ...]] = [
        tuple(row) for row in await session.execute(_PUSH_SOURCE, values)
    ]
    return {row[0]: PushSource(*row) for row in rows}


async def run_push_comment(ctx: JobContext, job: Job[PushComment]) -> None:
    """The action's comment, and those of the actions of its ticket queued right behind it (at
    most PUSH_TOGETHER in all), each posted as its own job would post it, in order. When one
    fails, those before it are kept, and it and those after it are queued again on their own
    (the job's own failure is the job's, as before)."""
    ticket_id = job.payload.ticket_id
    async with ctx.transaction() as session:
        taken = await ctx.take_behind(session, job, PUSH_TOGETHER - 1)
        pushes = [job, *taken]
        sources = await load_pushes(session, ticket_id, [push.payload.action_id for push in pushes])
        waiting = [
            (push, source)
            for push in pushes
            if (source := sources.get(push.payload.action_id)) is not None
            and source.comment_id is None  # else deleted meanwhile, or pushed by an earlier attempt
        ]
        target = waiting[0][1].target() if waiting else None
        if target is None:
            lines = [_not_linked(source, ticket_id) for _, source in waiting]
            await log_sync_lines(session, lines)
            await ctx.finish_in(session, job.id, taken)
            return
    instance, issue_id, issue_key = target
    posted: list[Posted] = []
    failure: JiraError | None = None
    try:
        async with jira_client(ctx.services, instance) as client:
            for push, source in waiting:
                posted.append(await _post(client, issue_id, push, source))
    except JiraError as exc:
        failure = exc
    late = ctx.settings.jira_late_write_seconds
    unposted = [push for push, _ in waiting[len(posted) :]]
    if failure is not None and unposted and unposted[0] is job:
        async with ctx.transaction() as session:
            await ctx.release_taken(session, taken)
        raise (await _failed(ctx, failure, instance, ticket_id, issue_key)) from failure
    async with ctx.transaction() as session:
        await _keep(session, posted, instance, ticket_id, (issue_id, issue_key), late)
        if failure is not None and unposted:
            failed, *untried = unposted
            await ctx.release_taken(
                session,
                untried,
                failed,
                error=str(failure),
                retry_after=late if isinstance(failure, JiraAmbiguousResult) else 0.0,
            )
        released = {push.id for push in unposted}
        done = [push for push in taken if push.id not in released]
        await ctx.finish_in(session, job.id, done)  # done exactly when the comment ids are kept


def _not_linked(source: PushSource, ticket_id: int) -> SyncLine:
    return SyncLine(
        source.instance_id,
        Direction.TO_JIRA,
        "push_comment",
        f"Action {source.action_id} not pushed: the ticket is not linked to Jira "
        f"(link status {source.link_status})",
        ticket_id=ticket_id,
    )


async def _post(
    client: JiraClient, issue_id: str, push: Job[PushComment], source: PushSource
) -> Posted:
    """The comment posted, or the one an earlier attempt of this push posted."""
    action_id, ticket_id = push.payload.action_id, push.payload.ticket_id
    earlier = None
    if push.attempts > 1:
        earlier = await find_earlier_comment(client, issue_id, action_id)
    if earlier is not None:
        return Posted(push, earlier, found_earlier=True)
    properties = {
        SYNC_PROPERTY: {"actionId": action_id, "ticketId": ticket_id},
        # Not visible on the portal: an internal note on a Service Management issue (on a Jira
        # Software issue the property changes nothing: every comment is for the team).
        SD_PUBLIC_COMMENT: audience_property(internal=not source.visible_on_portal),
    }
    body = comment_body(source.description, source.creator_name)
    return Posted(push, await client.add_comment(issue_id, body, properties=properties), False)


async def _keep(
    session: AsyncSession,
    posted: list[Posted],
    instance: JiraInstance,
    ticket_id: int,
    issue: tuple[str, str],
    late: float,
) -> None:
    """The comments' ids kept on their actions, each logged; where an earlier attempt may yet
    be applied late, a check for it queued."""
    if not posted:
        return
    issue_id, issue_key = issue
    kept = [
        {"action_id": one.push.payload.action_id, "comment_id": one.comment.id} for one in posted
    ]
    await session.execute(_KEEP_COMMENT_ID, kept)
    for one in posted:
        if one.push.attempts > 1 and not one.found_earlier:
            check = CheckLateComment(
                ticket_id=ticket_id,
                action_id=one.push.payload.action_id,
                instance_id=instance.id or 0,
                issue_id=issue_id,
                issue_key=issue_key,
                kept_comment_id=one.comment.id,
            )
            await jobs.enqueue(session, check, run_after=utcnow() + timedelta(seconds=late))
    lines = [
        SyncLine(
            instance.id,
            Direction.TO_JIRA,
            "push_comment",
            f"Action {one.push.payload.action_id} added to {issue_key} as comment "
            f"{one.comment.id}" + (" (found from an earlier attempt)" if one.found_earlier else ""),
            ticket_id=ticket_id,
            jira_key=issue_key,
        )
        for one in posted
    ]
    await log_sync_lines(session, lines)


async def _failed(
    ctx: JobContext, exc: JiraError, instance: JiraInstance, ticket_id: int, issue_key: str
) -> JobError:
    """What the job's own failed call means: retried, looked for later, or reported."""
    if isinstance(exc, JiraAmbiguousResult):
        late = ctx.settings.jira_late_write_seconds
        return look_again_later(exc, "comment", made="added", making="adding", after=late)
    if (again := retry_error(exc)) is not None:
        return again
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
    return JobError(message, transient=False)


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
