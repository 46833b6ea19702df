"""Writes Jira applied after their answer was lost (`jira.check_late_comment`,
`jira.check_late_issue`).

Jira has no idempotency key. After an ambiguous create the next attempt waits
`JIRA_LATE_WRITE_SECONDS` and looks for the earlier write before making it again, which covers a
Jira that applies it within its own request timeout. When it applied it later still, the retry
made a second copy; these jobs run that long after such a retry and leave Jira's final state
with one: a late comment copy is deleted, a late issue is reported on the ticket (an issue may
already have watchers or work on it, so a person decides; it is never linked).
"""

from __future__ import annotations

from app.integration.access import jira_client
from app.integration.job_kinds import CheckLateComment, CheckLateIssue
from app.integration.models import Direction, JiraInstance
from app.integration.outbound.comments import comments_made_for
from app.integration.outbound.earlier_issue import issues_created_by
from app.integration.outbound.failures import describe, retry_error
from app.integration.services import JobContext
from app.integration.sync_logs import log_sync, log_ticket_error
from app.jira.errors import JiraError
from app.jobs.kinds import Job, JobError, JobRegistry


async def _instance(ctx: JobContext, instance_id: int) -> JiraInstance | None:
    async with ctx.transaction() as session:
        return await session.get(JiraInstance, instance_id)


def _job_error(exc: JiraError) -> JobError:
    return retry_error(exc) or JobError(describe(exc), transient=False)


async def run_check_late_comment(ctx: JobContext, job: Job[CheckLateComment]) -> None:
    check = job.payload
    instance = await _instance(ctx, check.instance_id)
    if instance is None:
        return
    try:
        async with jira_client(ctx.services, instance) as client:
            copies = [
                comment.id
                async for comment in comments_made_for(client, check.issue_id, check.action_id)
                if comment.id != check.kept_comment_id
            ]
            for comment_id in copies:
                await client.delete_comment(check.issue_id, comment_id)
    except JiraError as exc:
        raise _job_error(exc) from exc
    if copies:
        async with ctx.transaction() as session:
            await log_sync(
                session,
                instance_id=check.instance_id,
                direction=Direction.TO_JIRA,
                event="push_comment",
                message=f"Removed comment {', '.join(copies)} on {check.issue_key}: a second "
                f"copy of action {check.action_id} that Jira added late, after its answer to an "
                f"earlier attempt was lost (comment {check.kept_comment_id} is kept)",
                ticket_id=check.ticket_id,
                jira_key=check.issue_key,
            )


async def run_check_late_issue(ctx: JobContext, job: Job[CheckLateIssue]) -> None:
    check = job.payload
    instance = await _instance(ctx, check.instance_id)
    if instance is None:
        return
    try:
        async with jira_client(ctx.services, instance) as client:
            copies = [
                issue.key
                async for issue in issues_created_by(
                    client, check.project_key, check.summary, check.ticket_id, check.link_job_id
                )
                if issue.id != check.kept_issue_id
            ]
    except JiraError as exc:
        raise _job_error(exc) from exc
    async with ctx.transaction() as session:
        for key in copies:
            await log_ticket_error(
                session,
                instance_id=check.instance_id,
                ticket_id=check.ticket_id,
                direction=Direction.TO_JIRA,
                event="create_issue",
                message=f"Jira created {key} late, after its answer to an earlier attempt was "
                f"lost: a second issue for this ticket beside {check.kept_issue_key}, which the "
                f"ticket is linked to. {key} is not linked; delete it in Jira.",
                jira_key=key,
            )


def register(registry: JobRegistry) -> None:
    registry.register(CheckLateComment, run_check_late_comment)
    registry.register(CheckLateIssue, run_check_late_issue)
