"""`jira.link_ticket`: link a ticket to an existing issue, or create the issue from the ticket.

Steps, each safe to repeat after a crash:
1. read what to do (short transaction; a superseded request is logged and skipped);
2. existing key: GET the issue. NewJiraIssue: unless an earlier attempt already recorded the
   created issue, look for one it may have created (entity property `helpdesk-sync` with this
   job's id; an unconfirmed create is looked for only once Jira's search index has settled)
   and otherwise create it with that property, recording its id and key at once;
3. add the remote link back to the ticket (stable globalId, so never twice);
4. mark the ticket Linked, log, and for an existing issue enqueue `jira.refresh_issue` so the
   ticket takes the issue's status, type and mapped fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.core.events import publish
from app.helpdesk.events import Origin, changing
from app.helpdesk.history import add_history
from app.helpdesk.models import JiraSyncStatus, Ticket
from app.integration.access import jira_client
from app.integration.events import IssueLinked
from app.integration.job_kinds import CheckLateIssue, LinkTicket
from app.integration.linked_issues import upsert_issue
from app.integration.models import Direction, JiraInstance, JiraIssue
from app.integration.outbound.earlier_issue import find_earlier_issue
from app.integration.outbound.failures import report_failure, retry_error
from app.integration.outbound.new_issue import (
    NewIssue,
    PlanProblem,
    create_issue,
    plan_new_issue,
)
from app.integration.outbound.rules import NEW_JIRA_ISSUE, ticket_global_id, ticket_url
from app.integration.services import JobContext
from app.integration.sync_logs import log_sync, log_ticket_error
from app.jira.client import JiraClient
from app.jira.errors import JiraError
from app.jira.schemas import CreatedIssue
from app.jobs import outbox as jobs
from app.jobs.kinds import Failure, Job, JobError


@dataclass
class LinkPlan:
    ticket_id: int
    ticket_number: int
    ticket_name: str
    requested: str
    instance: JiraInstance
    recorded: CreatedIssue | None = None  # an issue created by an earlier attempt of this job
    new: NewIssue | None = None


def _is_current(ticket: Ticket | None, requested: str) -> bool:
    return (
        ticket is not None
        and ticket.jira_sync_status == JiraSyncStatus.PENDING
        and (ticket.jira_requested_key or "").upper() == requested.upper()
    )


async def run_link_ticket(ctx: JobContext, job: Job[LinkTicket]) -> None:
    ticket_id = job.payload.ticket_id
    requested = job.payload.key
    async with ctx.transaction() as session:
        ticket = await session.get(Ticket, ticket_id)
        if not _is_current(ticket, requested):
            await log_sync(
                session,
                instance_id=job.payload.instance_id,
                direction=Direction.TO_JIRA,
                event="link",
                message=f"Link request {requested} superseded or withdrawn; skipped",
                ticket_id=ticket_id if ticket else None,
            )
            return
        assert ticket is not None
        try:
            plan = await _plan(session, ticket, requested)
        except PlanProblem as exc:
            await _mark_error(session, ticket, requested, str(exc))
            raise JobError(str(exc), transient=False) from None
    try:
        async with jira_client(ctx.services, plan.instance) as client:
            if plan.new is not None:
                issue = await _create_or_find(ctx, job, client, plan)
                event = "create_issue"
            else:
                found = await client.get_issue(requested, fields=["summary"])
                issue = CreatedIssue(id=found.id, key=found.key)
                event = "link"
            await client.upsert_remote_link(
                issue.id,
                ticket_global_id(ticket_id),
                ticket_url(ctx.settings.public_url, ticket_id),
                f"Ticket {plan.ticket_number}: {plan.ticket_name}"[:255],
            )
    except JiraError as exc:
        if (again := retry_error(exc)) is not None:
            raise again from exc
        async with ctx.transaction() as session:
            message = await _report(session, plan, exc)
        raise JobError(message, transient=False) from exc
    async with ctx.transaction() as session:
        await _mark_linked(session, plan, issue, event, requested_at=job.created_at)


async def on_link_failed(ctx: JobContext, job: Job[LinkTicket], failure: Failure) -> None:
    """The job gave up (or failed before reporting): the ticket's link goes to Error."""
    requested = job.payload.key
    async with ctx.transaction() as session:
        ticket = await session.get(Ticket, job.payload.ticket_id)
        if ticket is not None and _is_current(ticket, requested):
            await _mark_error(session, ticket, requested, failure.message)


async def _plan(session: AsyncSession, ticket: Ticket, requested: str) -> LinkPlan:
    instance = await session.get(JiraInstance, ticket.jira_instance_id or 0)
    if instance is None:
        raise PlanProblem("The ticket's Jira instance no longer exists.")
    if not instance.sync_active:
        raise PlanProblem(f"Jira instance {instance.name!r} is not active (SyncActive is off).")
    plan = LinkPlan(
        ticket_id=ticket.id or 0,
        ticket_number=ticket.ticket_number,
        ticket_name=ticket.name,
        requested=requested,
        instance=instance,
    )
    if requested.upper() != NEW_JIRA_ISSUE.upper():
        return plan
    if ticket.jira_issue_ref is not None:
        recorded = await session.get(JiraIssue, ticket.jira_issue_ref)
        if recorded is not None:
            plan.recorded = CreatedIssue(id=recorded.issue_id, key=recorded.issue_key)
            return plan
    plan.new = await plan_new_issue(session, ticket, instance)
    return plan


async def _create_or_find(
    ctx: JobContext, job: Job[LinkTicket], client: JiraClient, plan: LinkPlan
) -> CreatedIssue:
    if plan.recorded is not None:
        return plan.recorded
    new = plan.new
    assert new is not None
    found = None
    if job.attempts > 1:
        found = await find_earlier_issue(client, new, plan.ticket_id, job.id)
    settings = ctx.settings
    look_again_after = settings.jira_late_write_seconds + settings.jira_search_settle_seconds
    if found is None:
        created, notes = await create_issue(
            client, new, ticket_id=plan.ticket_id, job_id=job.id, look_again_after=look_again_after
        )
    else:
        created, notes = found, ["Found the issue an earlier attempt created; not created again"]
    async with ctx.transaction() as session:  # recorded before anything else can fail
        ticket = await session.get(Ticket, plan.ticket_id)
        if _is_current(ticket, plan.requested):
            assert ticket is not None
            row = await upsert_issue(
                session,
                instance_id=plan.instance.id or 0,
                issue_id=created.id,
                issue_key=created.key,
            )
            ticket.jira_issue_ref = row.id
            session.add(ticket)
        if job.attempts > 1 and found is None:  # an earlier attempt may yet be applied late
            check = CheckLateIssue(
                ticket_id=plan.ticket_id,
                link_job_id=job.id,
                instance_id=plan.instance.id or 0,
                project_key=new.project_key,
                summary=new.summary,
                kept_issue_id=created.id,
                kept_issue_key=created.key,
            )
            run_after = utcnow() + timedelta(seconds=look_again_after)
            await jobs.enqueue(session, check, run_after=run_after)
        for note in notes:
            await log_sync(
                session,
                instance_id=plan.instance.id,
                direction=Direction.TO_JIRA,
                event="create_issue",
                message=note,
                ticket_id=plan.ticket_id,
                jira_key=created.key,
            )
    return created


async def _mark_linked(
    session: AsyncSession,
    plan: LinkPlan,
    issue: CreatedIssue,
    event: str,
    *,
    requested_at: datetime,
) -> None:
    ticket = await session.get(Ticket, plan.ticket_id)
    instance_id = plan.instance.id or 0
    if not _is_current(ticket, plan.requested):
        await log_sync(
            session,
            instance_id=instance_id,
            direction=Direction.TO_JIRA,
            event=event,
            message=f"{issue.key} ready, but the ticket's link request changed meanwhile",
            ticket_id=plan.ticket_id,
            jira_key=issue.key,
        )
        return
    assert ticket is not None
    row = await upsert_issue(
        session, instance_id=instance_id, issue_id=issue.id, issue_key=issue.key
    )
    async with changing(session, [plan.ticket_id], Origin.JIRA):
        ticket.jira_issue_ref = row.id
        ticket.jira_sync_status = JiraSyncStatus.LINKED
        ticket.jira_requested_key = None
        session.add(ticket)
        await session.flush()
    created = plan.new is not None or plan.recorded is not None
    what = f"Jira issue {issue.key} created and linked" if created else f"Linked to {issue.key}"
    if plan.new is not None:
        what += f" (project from {plan.new.project_source})"
    await add_history(session, plan.ticket_id, what)
    await log_sync(
        session,
        instance_id=instance_id,
        direction=Direction.TO_JIRA,
        event=event,
        message=what,
        ticket_id=plan.ticket_id,
        jira_key=issue.key,
    )
    await publish(session, IssueLinked(instance_id, issue.id, requested_at, created))


async def _report(session: AsyncSession, plan: LinkPlan, exc: JiraError) -> str:
    ticket = await session.get(Ticket, plan.ticket_id)
    key = None if plan.requested.upper() == NEW_JIRA_ISSUE.upper() else plan.requested
    message = await report_failure(
        session,
        exc,
        instance_id=plan.instance.id,
        ticket_id=plan.ticket_id,
        event="create_issue" if plan.new is not None else "link",
        jira_key=key,
        subject=f"Jira issue {key}" if key else None,
    )
    if ticket is not None and _is_current(ticket, plan.requested):
        async with changing(session, [plan.ticket_id], Origin.JIRA, reason=message):
            ticket.jira_sync_status = JiraSyncStatus.ERROR
            session.add(ticket)
            await session.flush()
    return message


async def _mark_error(session: AsyncSession, ticket: Ticket, requested: str, message: str) -> None:
    async with changing(session, [ticket.id or 0], Origin.JIRA, reason=message):
        ticket.jira_sync_status = JiraSyncStatus.ERROR
        session.add(ticket)
        await session.flush()
    key = None if requested.upper() == NEW_JIRA_ISSUE.upper() else requested
    await log_ticket_error(
        session,
        instance_id=ticket.jira_instance_id,
        ticket_id=ticket.id or 0,
        direction=Direction.TO_JIRA,
        event="link",
        message=message,
        jira_key=key,
    )
