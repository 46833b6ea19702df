"""Jira's changes applied to the tickets linked to an issue: `jira.apply_webhook` (a received
delivery, once however often Jira sends it; Jira is called between transactions, never inside
one) and `apply_issue_changes` (type, status, move/product and mapped fields, in that order, also
for an issue's state fetched by `refresh.py`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.core.db import table_of, utcnow
from app.core.logging import get_logger
from app.helpdesk.events import Origin, changing
from app.inbox.models import WebhookDelivery
from app.integration.access import jira_client
from app.integration.inbound.comments import (
    CommentPlan,
    add_comment,
    check_comment_in_jira,
    comment_plan,
    needs_jira_check,
)
from app.integration.inbound.deleted import mark_deleted
from app.integration.inbound.delivery_reads import (
    parsed_delivery,
    read_deliveries,
    read_job_delivery,
)
from app.integration.inbound.failures import fail_instance_wide
from app.integration.inbound.fields import apply_fields
from app.integration.inbound.linked_tickets import ApplyReport, LinkedTickets
from app.integration.inbound.product import apply_move, apply_product
from app.integration.inbound.rules import is_stale
from app.integration.inbound.status import all_status_options, apply_issue_type, apply_status
from app.integration.job_kinds import ApplyWebhook
from app.integration.linked_issues import issue_row, issue_rows_if_free
from app.integration.models import Direction, JiraInstance, JiraIssue
from app.integration.services import JobContext
from app.integration.sync_logs import log_sync
from app.jira.deliveries import EventKind, IssueChanges, ParsedDelivery
from app.jira.errors import JiraError
from app.jira.webhooks import as_utc
from app.jobs import alongside, behind
from app.jobs.kinds import Job, JobRegistry
from app.jobs.last_write import LastWrite, pending_update
from app.jobs.models import SyncJob

log = get_logger(__name__)
# At most this many deliveries queued behind a job are applied with it (one transaction).
COALESCE_LIMIT = 100
# Under a backlog, at most this many first deliveries of other issues too (`_apply_alongside`):
# enough to share a commit widely, few enough that the issues' locks are held briefly.
ALONGSIDE_LIMIT = 16


async def apply_webhook(ctx: JobContext, job: Job[ApplyWebhook]) -> None:
    """Apply a stored delivery to every ticket linked to its issue (once, however often sent),
    and with it the deliveries about the same issue queued right behind it (`_apply_behind`).

    One transaction, holding the issue's row lock, in the usual case. A comment that must first
    be checked in Jira (its author, or a visibility the payload does not tell) ends that
    transaction unwritten, asks Jira without holding the lock, and applies in a second one.
    """
    checked: CommentPlan | None = None
    while True:
        async with ctx.transaction() as session:
            first_read = await read_job_delivery(session, job)
            if first_read is None or first_read[0].processed_at is not None:
                await ctx.finish_in(session, job.id)
                return
            delivery, instance, anything_behind, issue, linked = first_read
            parsed = await parsed_delivery(session, delivery, job.payload)
            bound = log.bind(
                delivery=delivery.delivery_id, event=parsed.event, issue_id=parsed.issue_id
            )
            if issue is None and instance is not None:
                issue = await issue_row(session, instance.id or 0, parsed.issue_id, lock=True)
            tickets = (
                LinkedTickets(session, instance, issue, linked)
                if instance is not None and issue is not None
                else None
            )
            if (
                tickets is None
                or not tickets.instance.sync_active
                or tickets.issue.deleted
                or not await tickets.id_list()
            ):
                outcome = (
                    "inactive" if instance is not None and not instance.sync_active else "unlinked"
                )
                bound.info(f"jira.webhook.{outcome}")
                await ctx.finish_in(session, job.id, last=[_marked(delivery, outcome)])
                return
            plan = checked or await comment_plan(session, tickets.instance, tickets.issue, parsed)
            if checked is not None or not needs_jira_check(plan):
                outcome = await _apply_parsed(tickets, parsed, plan)
                bound.info("jira.webhook.applied", outcome=outcome)
                if anything_behind:
                    await _apply_behind(tickets, ctx, job)
                await _apply_alongside(ctx, session, tickets.instance, job)
                await ctx.finish_in(session, job.id, last=_last_writes(tickets, delivery, outcome))
                return
        assert plan is not None
        instance_id = tickets.instance.id or 0
        try:
            async with jira_client(ctx.services, tickets.instance) as client:
                await check_comment_in_jira(client, tickets.issue.issue_id, plan)
        except JiraError as exc:
            raise await fail_instance_wide(ctx, instance_id, "jira.comment", exc) from exc
        checked = plan


async def _apply_behind(tickets: LinkedTickets, ctx: JobContext, job: Job[ApplyWebhook]) -> None:
    """The deliveries about the same issue queued behind this job (a burst of changes, or a
    backlog), applied in its transaction one by one in order, each exactly as its own job would
    (an older change is stale, each comment once, History per change), their jobs done with it.
    The first that needs Jira asked about a comment, or follows the issue's deletion, is left
    to its own job."""
    session, issue = tickets.session, tickets.issue
    ordering_key = job.payload.ordering_key()
    if ordering_key is None or issue.deleted:
        return
    queued_behind = await behind.queued_behind(
        session, job.id, ordering_key, ApplyWebhook.kind, COALESCE_LIMIT
    )
    payloads: list[tuple[SyncJob, ApplyWebhook]] = []
    for queued in queued_behind:
        try:
            payloads.append((queued, ApplyWebhook.model_validate(queued.payload)))
        except ValidationError:
            break  # its own job says so
    deliveries = await read_deliveries(session, [payload.delivery_id for _, payload in payloads])
    taken: list[SyncJob] = []
    for queued, payload in payloads:
        delivery = deliveries.get(payload.delivery_id)
        if delivery is not None and delivery.processed_at is None:
            parsed = await parsed_delivery(session, delivery, payload)
            if not await _apply_with(tickets, delivery, parsed, job):
                break
        taken.append(queued)
        if issue.deleted:
            break
    await ctx.finish_taken(session, job.id, taken)


async def _apply_alongside(
    ctx: JobContext, session: AsyncSession, instance: JiraInstance, job: Job[ApplyWebhook]
) -> None:
    """Under a backlog (the worker's last claim filled its slots), the first deliveries of
    other issues waiting for a slot, applied in this transaction each as its own job would
    (`jobs/alongside.py`): one claim, commit and finish for several instead of one each, and
    their issues locked and their tickets read in one statement each. Not on a retry: a job
    that failed is run alone, so a delivery that keeps failing holds no other back more than
    once. One that needs what this transaction cannot give is left to its own job
    (`_apply_head`)."""
    if not ctx.backlog or job.attempts > 1:
        return
    heads: list[tuple[SyncJob, ApplyWebhook]] = []
    for row in await alongside.ready_heads(session, ApplyWebhook.kind, ALONGSIDE_LIMIT):
        try:
            heads.append((row, ApplyWebhook.model_validate(row.payload)))
        except ValidationError:
            continue  # its own job says so
    deliveries = await read_deliveries(session, [payload.delivery_id for _, payload in heads])
    waiting: list[tuple[SyncJob, WebhookDelivery, ParsedDelivery]] = []
    for row, payload in heads:
        delivery = deliveries.get(payload.delivery_id)
        # Applied already or gone, or of another instance (the running job's instance syncs:
        # it checked): its own job says so.
        if (
            delivery is None
            or delivery.processed_at is not None
            or delivery.jira_instance_id != instance.id
        ):
            continue
        waiting.append((row, delivery, await parsed_delivery(session, delivery, payload)))
    issues = await issue_rows_if_free(
        session, instance.id or 0, [parsed.issue_id or "" for _, _, parsed in waiting]
    )
    linked = await LinkedTickets.of_issues(
        session, instance, [issue for issue in issues.values() if not issue.deleted]
    )
    done = [
        row
        for row, delivery, parsed in waiting
        if await _apply_head(linked.get(parsed.issue_id or ""), delivery, parsed, job)
    ]
    await ctx.finish_taken(session, job.id, done)


async def _apply_head(
    tickets: LinkedTickets | None,
    delivery: WebhookDelivery,
    parsed: ParsedDelivery,
    job: Job[ApplyWebhook],
) -> bool:
    """Apply the delivery of a job taken alongside (`_apply_alongside`); False when it is left
    to its own job: about an issue another transaction holds (never waited for while this one
    holds others), deleted or not linked (`tickets` None or none linked), or a comment Jira
    must first be asked about."""
    if tickets is None or not await tickets.id_list():
        return False
    return await _apply_with(tickets, delivery, parsed, job)


async def _apply_with(
    tickets: LinkedTickets,
    delivery: WebhookDelivery,
    parsed: ParsedDelivery,
    job: Job[ApplyWebhook],
) -> bool:
    """Apply a delivery taken by the running job `job` (from behind it, or alongside), as its
    own job would; False, unapplied, when Jira must first be asked about its comment."""
    plan = await comment_plan(tickets.session, tickets.instance, tickets.issue, parsed)
    if needs_jira_check(plan):
        return False
    outcome = await _apply_parsed(tickets, parsed, plan)
    _mark(delivery, outcome)
    log.bind(delivery=delivery.delivery_id, event=parsed.event, issue_id=parsed.issue_id).info(
        "jira.webhook.applied", outcome=outcome, with_job=job.id
    )
    return True


def _mark(delivery: WebhookDelivery, outcome: str) -> None:
    delivery.processed_at = utcnow()
    delivery.outcome = outcome[:32]


_DELIVERIES = table_of(WebhookDelivery)
# Built once: the job's own delivery marked as `_mark` does, written with the job's being done
# (on PostgreSQL in one statement: `jobs/last_write.py`).
_MARK = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("marked_id"))
    .values(processed_at=bindparam("marked_at"), outcome=bindparam("marked_outcome"))
    .returning(_DELIVERIES.c.id)
)


def _marked(delivery: WebhookDelivery, outcome: str) -> LastWrite:
    """The job's delivery marked processed (`_MARK`), and so its object in the session."""
    processed_at, outcome = utcnow(), outcome[:32]
    set_committed_value(delivery, "processed_at", processed_at)
    set_committed_value(delivery, "outcome", outcome)
    parameters = {"marked_id": delivery.id, "marked_at": processed_at, "marked_outcome": outcome}
    return LastWrite(_MARK, parameters)


def _last_writes(
    tickets: LinkedTickets, delivery: WebhookDelivery, outcome: str
) -> list[LastWrite]:
    """The job's delivery marked, and its issue's row written (what the tickets now reflect),
    with its job done: on PostgreSQL one statement, instead of the issue's flush apart."""
    issue = pending_update(tickets.issue)
    return [_marked(delivery, outcome), *([issue] if issue is not None else [])]


async def _log(session: AsyncSession, issue: JiraIssue, event: str, message: str) -> None:
    """A sync log line about the issue (not an error: a decision worth seeing), written now:
    in a burst applied together, the lines keep the order of the deliveries."""
    await log_sync(
        session,
        instance_id=issue.instance_id,
        direction=Direction.FROM_JIRA,
        event=event,
        message=message,
        jira_key=issue.issue_key,
    )
    await session.flush()


async def _apply_parsed(
    tickets: LinkedTickets, parsed: ParsedDelivery, plan: CommentPlan | None
) -> str:
    session, instance, issue = tickets.session, tickets.instance, tickets.issue
    if parsed.kind is EventKind.ISSUE_DELETED:
        await mark_deleted(session, instance, issue)
        return "deleted"
    if parsed.kind is EventKind.COMMENT_UPDATED:
        await _log(
            session,
            issue,
            "jira.comment_updated",
            f"Comment edit on {issue.issue_key} not propagated (edits are not synced)",
        )
        return "logged"
    outcome = "applied"
    if parsed.kind is EventKind.ISSUE_UPDATED and not parsed.changes.empty:
        if is_stale(
            parsed.updated, parsed.changelog_id, issue.jira_updated, issue.last_changelog_id
        ):
            outcome = "stale"
            await _log(
                session,
                issue,
                "jira.issue_updated",
                f"Older change to {issue.issue_key} not applied over a newer one",
            )
        else:
            version = (parsed.updated, parsed.changelog_id)
            await apply_issue_changes(tickets, parsed.changes, version=version)
    if plan is not None:
        if plan.skip is not None:
            await _log(
                session,
                issue,
                "jira.comment_created",
                f"Jira comment {plan.comment.id} not added: {plan.skip}",
            )
            outcome = "comment skipped" if outcome == "applied" else outcome
        else:
            await add_comment(session, instance, issue, plan.comment)
    session.add(issue)
    return outcome


async def apply_issue_changes(
    tickets: LinkedTickets,
    changes: IssueChanges,
    *,
    set_product: bool = False,
    version: tuple[datetime | None, int | None] | None = None,
) -> ApplyReport:
    """Type, status, move/product and mapped fields, in that order, to every linked ticket; and
    the issue's `version` (Jira's updated, the changelog id) remembered with them."""
    report = ApplyReport()
    if changes.issue_type or (changes.status_to and tickets.instance.update_ticket_status):
        # Read first, so that the tickets' answers rendered before the change (for an outgoing
        # event) find their statuses among them instead of reading them apart.
        await all_status_options(tickets.session)
    async with changing(tickets.session, await tickets.id_list(), Origin.JIRA):
        if version is not None:
            # Within the change (not after it): an outgoing event flushes the issue with the
            # tickets' answers after the change, and then its row is written once.
            remember_version(tickets.issue, *version)
        if changes.issue_type:
            await apply_issue_type(tickets, changes.issue_type, report)
        if changes.status_to:
            await apply_status(tickets, changes.status_from, changes.status_to, report)
        if changes.move is not None:
            await apply_move(tickets, changes, report)
        elif set_product and changes.project_key:
            await apply_product(
                tickets, changes.project_key, changes.project_name, report, log_unmatched=False
            )
        if changes.fields:
            await apply_fields(tickets, changes.fields, report)
        if report.changes:
            await tickets.touch()
            await tickets.log("jira.issue_updated", "; ".join(report.changes))
    return report


def remember_version(issue: JiraIssue, updated: datetime | None, changelog_id: int | None) -> None:
    """What the tickets now reflect (Jira's `updated`, then the changelog id within the same
    time), so that an older delivery is recognised as stale."""
    if updated is not None and (
        issue.jira_updated is None or as_utc(updated) >= as_utc(issue.jira_updated)
    ):
        if issue.jira_updated is None or as_utc(updated) > as_utc(issue.jira_updated):
            issue.last_changelog_id = None
        issue.jira_updated = updated
    if changelog_id is not None and (
        issue.last_changelog_id is None or changelog_id > issue.last_changelog_id
    ):
        issue.last_changelog_id = changelog_id


def register(registry: JobRegistry) -> None:
    registry.register(ApplyWebhook, apply_webhook)
