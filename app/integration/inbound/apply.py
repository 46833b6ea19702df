"""Jira → tickets jobs: apply a stored webhook delivery, refresh one issue, and prune old
deliveries (reconciliation is `inbound_reconcile`). Jira is called between transactions, never
inside one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.logging import get_logger
from app.helpdesk.models import Ticket
from app.integration.access import jira_client
from app.integration.inbound.inbox import APPLY_WEBHOOK, issue_ordering_key
from app.integration.inbound.linked_tickets import (
    ApplyReport,
    add_comment,
    apply_issue_changes,
    comment_already_known,
    mark_deleted,
)
from app.integration.inbound.receive import replay_unlinked
from app.integration.inbound.rules import changes_from_issue, is_integration_user, is_stale
from app.integration.models import (
    Direction,
    JiraInstance,
    JiraIssue,
    JiraMapping,
    MappingType,
    WebhookDelivery,
)
from app.integration.sync_logs import log_sync
from app.jira.client import JiraClient
from app.jira.errors import JiraAuthError, JiraError, JiraNotFound, JiraRateLimited
from app.jira.schemas import Issue
from app.jira.webhooks import (
    CommentInfo,
    EventKind,
    ParsedDelivery,
    Privacy,
    as_utc,
    parse_delivery,
    parse_jira_time,
)
from app.jobs import outbox as jobs
from app.jobs.context import WorkerContext
from app.jobs.models import SyncJob

log = get_logger(__name__)

REFRESH_ISSUE = "jira.refresh_issue"
PRUNE_DELIVERIES = "maintenance.prune_webhook_deliveries"
MIN_DELIVERY_RETENTION_DAYS = 7


# -- enqueueing (for other features too) -----------------------------------------------------


async def enqueue_refresh(
    session: AsyncSession, instance_id: int, issue_id: str, linked_since: datetime | None = None
) -> SyncJob:
    """Queue `jira.refresh_issue` (e.g. right after a ticket is linked), in the caller's
    transaction, ordered with the issue's webhook deliveries. With `linked_since` (when the link
    was asked for), deliveries about the issue that arrived before the link existed are replayed."""
    payload: dict[str, Any] = {"instance_id": instance_id, "issue_id": issue_id}
    if linked_since is not None:
        payload["linked_since"] = linked_since.isoformat()
    return await jobs.enqueue(
        session,
        REFRESH_ISSUE,
        payload,
        ordering_key=issue_ordering_key(instance_id, issue_id),
    )


# -- shared helpers ----------------------------------------------------------------------------


def job_error(exc: JiraError) -> jobs.JobError:
    retry_after = exc.retry_after if isinstance(exc, JiraRateLimited) else None
    return jobs.JobError(str(exc), transient=exc.transient, retry_after=retry_after)


async def fail_instance_wide(
    ctx: WorkerContext, instance_id: int, event: str, exc: JiraError
) -> jobs.JobError:
    """Authentication and other instance-wide errors: CrmSyncErrors, not ticket History."""
    if isinstance(exc, JiraAuthError):
        async with ctx.transaction() as session:
            await log_sync(
                session,
                instance_id=instance_id,
                direction=Direction.FROM_JIRA,
                event=event,
                message=str(exc),
                error=True,
            )
    return job_error(exc)


async def _issue_row(
    session: AsyncSession, instance_id: int, issue_id: str | None, *, lock: bool = False
) -> JiraIssue | None:
    if issue_id is None:
        return None
    query = select(JiraIssue).where(
        col(JiraIssue.instance_id) == instance_id, col(JiraIssue.issue_id) == issue_id
    )
    if lock:
        query = query.with_for_update()
    row: JiraIssue | None = await session.scalar(query)
    return row


async def _has_linked_tickets(session: AsyncSession, issue: JiraIssue) -> bool:
    found = await session.scalar(
        select(col(Ticket.id)).where(col(Ticket.jira_issue_ref) == issue.id).limit(1)
    )
    return found is not None


async def mapped_field_names(session: AsyncSession, instance_id: int) -> list[str]:
    rows = await session.scalars(
        select(col(JiraMapping.jira_field)).where(
            col(JiraMapping.instance_id) == instance_id,
            col(JiraMapping.mapping_type) == MappingType.TICKET,
        )
    )
    return list(rows)


def _bump(issue: JiraIssue, updated: datetime | None, changelog_id: int | None) -> None:
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


# -- jira.apply_webhook --------------------------------------------------------------------------


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
        plan.skip = "private (visibility restricted)"
    else:
        plan.check_account = comment.author.account_id is not None
        plan.fetch = comment.privacy is Privacy.UNKNOWN
    return plan


async def _check_comment_in_jira(client: JiraClient, issue_id: str, plan: CommentPlan) -> None:
    """Ask Jira what the payload cannot tell: our own account id, and the comment's visibility."""
    if plan.check_account:
        me = await client.myself_cached()
        identities = [me.name or "", me.key or "", me.email_address or "", me.account_id or ""]
        if is_integration_user(plan.comment.author, identities):
            plan.skip = "written by the integration user (our own comment)"
            return
    if plan.fetch:
        try:
            fetched = await client.get_comment(issue_id, plan.comment.id)
        except JiraNotFound:
            plan.skip = "no longer exists in Jira"
            return
        if fetched.visibility or fetched.jsd_public is False:
            plan.skip = "private (visibility restricted)"


async def apply_webhook(ctx: WorkerContext, job: SyncJob) -> None:
    """Apply a stored delivery to every ticket linked to its issue (once, however often sent).

    One transaction, holding the issue's row lock, in the usual case. A comment that must first
    be checked in Jira (its author, or a visibility the payload does not tell) ends that
    transaction unwritten, asks Jira without holding the lock, and applies in a second one.
    """
    delivery_pk = int(job.payload["delivery_id"])
    checked: CommentPlan | None = None
    while True:
        async with ctx.transaction() as session:
            delivery = await session.get(WebhookDelivery, delivery_pk)
            if delivery is None or delivery.processed_at is not None:
                return
            parsed = parse_delivery(json.loads(delivery.body))
            bound = log.bind(
                delivery=delivery.delivery_id, event=parsed.event, issue_id=parsed.issue_id
            )
            instance = await session.get(JiraInstance, delivery.jira_instance_id)
            issue = (
                await _issue_row(session, instance.id or 0, parsed.issue_id, lock=True)
                if instance is not None
                else None
            )
            if (
                instance is None
                or not instance.sync_active
                or issue is None
                or issue.deleted
                or not await _has_linked_tickets(session, issue)
            ):
                outcome = (
                    "inactive" if instance is not None and not instance.sync_active else "unlinked"
                )
                _mark(delivery, outcome)
                bound.info(f"jira.webhook.{outcome}")
                return
            plan = checked or await _comment_plan(session, instance, issue, parsed)
            if checked is not None or not _needs_jira_check(plan):
                outcome = await _apply_parsed(session, instance, issue, parsed, plan)
                _mark(delivery, outcome)
                bound.info("jira.webhook.applied", outcome=outcome)
                return
        assert plan is not None
        try:
            async with jira_client(ctx.services.jira, instance, ctx.secrets) as client:
                await _check_comment_in_jira(client, issue.issue_id, plan)
        except JiraError as exc:
            raise await fail_instance_wide(ctx, instance.id or 0, "jira.comment", exc) from exc
        checked = plan


async def _comment_plan(
    session: AsyncSession, instance: JiraInstance, issue: JiraIssue, parsed: ParsedDelivery
) -> CommentPlan | None:
    if parsed.comment is None or parsed.kind not in (
        EventKind.COMMENT_CREATED,
        EventKind.ISSUE_UPDATED,
    ):
        return None
    known = await comment_already_known(session, issue, parsed.comment.id)
    return _plan_comment(instance, parsed.comment, known)


def _needs_jira_check(plan: CommentPlan | None) -> bool:
    return plan is not None and plan.skip is None and (plan.check_account or plan.fetch)


def _mark(delivery: WebhookDelivery, outcome: str) -> None:
    delivery.processed_at = utcnow()
    delivery.outcome = outcome[:32]


async def _apply_parsed(
    session: AsyncSession,
    instance: JiraInstance,
    issue: JiraIssue,
    parsed: ParsedDelivery,
    plan: CommentPlan | None,
) -> str:
    if parsed.kind is EventKind.ISSUE_DELETED:
        await mark_deleted(session, instance, issue)
        return "deleted"
    if parsed.kind is EventKind.COMMENT_UPDATED:
        await log_sync(
            session,
            instance_id=instance.id,
            direction=Direction.FROM_JIRA,
            event="jira.comment_updated",
            message=f"Comment edit on {issue.issue_key} not propagated (edits are not synced)",
            jira_key=issue.issue_key,
        )
        return "logged"
    outcome = "applied"
    if parsed.kind is EventKind.ISSUE_UPDATED and not parsed.changes.empty:
        if is_stale(
            parsed.updated, parsed.changelog_id, issue.jira_updated, issue.last_changelog_id
        ):
            outcome = "stale"
            await log_sync(
                session,
                instance_id=instance.id,
                direction=Direction.FROM_JIRA,
                event="jira.issue_updated",
                message=f"Older change to {issue.issue_key} not applied over a newer one",
                jira_key=issue.issue_key,
            )
        else:
            await apply_issue_changes(session, instance, issue, parsed.changes)
            _bump(issue, parsed.updated, parsed.changelog_id)
    if plan is not None:
        if plan.skip is not None:
            await log_sync(
                session,
                instance_id=instance.id,
                direction=Direction.FROM_JIRA,
                event="jira.comment_created",
                message=f"Jira comment {plan.comment.id} not added: {plan.skip}",
                jira_key=issue.issue_key,
            )
            outcome = "comment skipped" if outcome == "applied" else outcome
        else:
            await add_comment(session, instance, issue, plan.comment)
    session.add(issue)
    return outcome


# -- jira.refresh_issue and reconciliation ---------------------------------------------------


async def field_names_by_id(client: JiraClient, mapped: Sequence[str]) -> dict[str, str]:
    if not mapped:
        return {}
    return {field.id: field.name for field in await client.fields()}


async def apply_fetched_issue(
    ctx: WorkerContext,
    instance_id: int,
    fetched: Issue,
    field_names: dict[str, str],
) -> ApplyReport | None:
    """Apply a fetched issue's current state through the same code path as webhooks; None when
    it is not linked (any more) or older than what the tickets reflect."""
    async with ctx.transaction() as session:
        instance = await session.get(JiraInstance, instance_id)
        issue = await _issue_row(session, instance_id, fetched.id, lock=True)
        if instance is None or issue is None or issue.deleted:
            return None
        if not await _has_linked_tickets(session, issue):
            return None
        updated = parse_jira_time(fetched.fields.get("updated"))
        if is_stale(updated, None, issue.jira_updated, issue.last_changelog_id):
            return None
        initial = issue.status_name is None
        changes = changes_from_issue(
            fetched.key,
            fetched.fields,
            known_key=issue.issue_key,
            known_status=issue.status_name,
            known_type=issue.issue_type_name,
            field_names=field_names,
            mapped=await mapped_field_names(session, instance_id),
        )
        report = await apply_issue_changes(session, instance, issue, changes, set_product=initial)
        if fetched.key and fetched.key != issue.issue_key:
            issue.issue_key = fetched.key
        _bump(issue, updated, None)
        session.add(issue)
        return report


async def refresh_issue(ctx: WorkerContext, job: SyncJob) -> None:
    """Fetch one issue and apply its current status, type, project and mapped fields."""
    instance_id = int(job.payload["instance_id"])
    issue_id = str(job.payload["issue_id"])
    async with ctx.transaction() as session:
        instance = await session.get(JiraInstance, instance_id)
        issue = await _issue_row(session, instance_id, issue_id)
        mapped = await mapped_field_names(session, instance_id)
    if instance is None or issue is None or issue.deleted:
        log.info("jira.refresh.unlinked", instance_id=instance_id, issue_id=issue_id)
        return
    try:
        async with jira_client(ctx.services.jira, instance, ctx.secrets) as client:
            fetched = await client.get_issue(issue_id)
            names = await field_names_by_id(client, mapped)
    except JiraNotFound:
        async with ctx.transaction() as session:
            instance = await session.get(JiraInstance, instance_id)
            row = await _issue_row(session, instance_id, issue_id, lock=True)
            if instance is not None and row is not None and not row.deleted:
                await mark_deleted(session, instance, row)
        return
    except JiraError as exc:
        raise await fail_instance_wide(ctx, instance_id, "jira.refresh_issue", exc) from exc
    await apply_fetched_issue(ctx, instance_id, fetched, names)
    if "linked_since" in job.payload:
        since = datetime.fromisoformat(job.payload["linked_since"])
        async with ctx.transaction() as session:
            replayed = await replay_unlinked(session, instance_id, issue_id, since)
        if replayed:
            log.info("jira.refresh.replayed", issue_id=issue_id, deliveries=replayed)


async def prune_deliveries(ctx: WorkerContext, _job: SyncJob) -> None:
    """Periodic: forget deliveries older than the retention (at least 7 days, so Jira's retries
    and duplicates within that time are still recognised)."""
    days = max(ctx.settings.webhook_retention_days, MIN_DELIVERY_RETENTION_DAYS)
    cutoff = utcnow() - timedelta(days=days)
    async with ctx.transaction() as session:
        result = await session.execute(
            delete(WebhookDelivery).where(col(WebhookDelivery.received_at) < cutoff)
        )
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.info("jira.webhook.pruned", removed=removed)


def register(registry: jobs.JobRegistry) -> None:
    registry.register(APPLY_WEBHOOK, apply_webhook)
    registry.register(REFRESH_ISSUE, refresh_issue)
    registry.register_periodic(PRUNE_DELIVERIES, prune_deliveries, lambda _s: 6 * 3600.0)
