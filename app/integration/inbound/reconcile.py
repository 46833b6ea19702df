"""Reconciliation: re-read an instance's linked issues changed since the last run and apply any
difference, so a change whose webhook was lost still reaches the tickets.

Jira refuses a whole search that names an issue id which no longer exists (an issue deleted
while its `issue_deleted` webhook was lost). The issues of such a search are then re-read one by
one (`jira.refresh_issue` jobs): the deleted ones are found (404) and their links marked, the
others applied as usual.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.logging import get_logger
from app.helpdesk.models import Ticket
from app.integration.access import jira_client
from app.integration.inbound.failures import fail_instance_wide
from app.integration.inbound.refresh import (
    apply_fetched_issue,
    enqueue_refresh,
    field_names_by_id,
    mapped_field_names,
)
from app.integration.job_kinds import Reconcile, ReconcileAll
from app.integration.models import Direction, JiraInstance, JiraIssue
from app.integration.services import JobContext
from app.integration.sync_logs import log_sync
from app.jira.errors import JiraError, JiraValidationError
from app.jira.webhooks import as_utc
from app.jobs import outbox as jobs
from app.jobs.kinds import Job, JobRegistry
from app.jobs.models import JobStatus, SyncJob

log = get_logger(__name__)

RECONCILE_MARGIN = timedelta(minutes=5)
RECONCILE_IDS_PER_QUERY = 100


async def enqueue_reconcile(session: AsyncSession, instance_id: int) -> int:
    """Queue a reconciliation of one instance unless one is already waiting; the job's id."""
    payload = Reconcile(instance_id=instance_id)
    waiting = await session.scalar(
        select(col(SyncJob.id)).where(
            col(SyncJob.kind) == Reconcile.kind,
            col(SyncJob.ordering_key) == payload.ordering_key(),
            col(SyncJob.status) == JobStatus.QUEUED,
        )
    )
    if waiting is not None:
        return waiting
    return await jobs.enqueue(session, payload)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reconcile_jql(issue_ids: Sequence[str], since: datetime | None, now: datetime) -> str:
    """Linked issues (by id) updated since the last run, as a relative time (JQL dates would be
    read in the Jira user's time zone; `-Nm` is not)."""
    ids = ", ".join(i for i in issue_ids if i.isdigit())
    jql = f"id in ({ids})"
    if since is not None:
        minutes = math.ceil((now - as_utc(since) + RECONCILE_MARGIN).total_seconds() / 60)
        jql += f' AND updated >= "-{max(minutes, 1)}m"'
    return jql + " ORDER BY updated ASC"


async def _linked_issue_ids(session: AsyncSession, instance_id: int) -> list[str]:
    return sorted(
        set(
            await session.scalars(
                select(col(JiraIssue.issue_id))
                .join(Ticket, col(Ticket.jira_issue_ref) == JiraIssue.id)
                .where(
                    col(JiraIssue.instance_id) == instance_id,
                    col(JiraIssue.deleted).is_(False),
                )
            )
        )
    )


async def _reread_one_by_one(ctx: JobContext, instance_id: int, chunk: Sequence[str]) -> None:
    async with ctx.transaction() as session:
        for issue_id in chunk:
            await enqueue_refresh(session, instance_id, issue_id)


async def reconcile(ctx: JobContext, job: Job[Reconcile]) -> None:
    """Re-read the instance's linked issues changed since the last run; apply any difference."""
    instance_id = job.payload.instance_id
    started = utcnow()
    async with ctx.transaction() as session:
        instance = await session.get(JiraInstance, instance_id)
        if instance is None or not instance.sync_active or not instance.host_name:
            log.info("jira.reconcile.skipped", instance_id=instance_id)
            return
        since = instance.last_reconciled_at
        issue_ids = await _linked_issue_ids(session, instance_id)
        mapped = await mapped_field_names(session, instance_id)
    checked = applied = reread = 0
    refusals: list[str] = []
    try:
        async with jira_client(ctx.services, instance) as client:
            names = await field_names_by_id(client, mapped) if issue_ids else {}
            for chunk in _chunks(issue_ids, RECONCILE_IDS_PER_QUERY):
                try:
                    async for fetched in client.search_jql_all(
                        reconcile_jql(chunk, since, started), fields=["*all"]
                    ):
                        checked += 1
                        report = await apply_fetched_issue(ctx, instance_id, fetched, names)
                        if report is not None and report.changed:
                            applied += 1
                except JiraValidationError as exc:
                    await _reread_one_by_one(ctx, instance_id, chunk)
                    reread += len(chunk)
                    refusals.append(exc.message)
    except JiraError as exc:
        raise await fail_instance_wide(ctx, instance_id, Reconcile.kind, exc) from exc
    message = (
        f"Reconcile: {len(issue_ids)} linked issues, {checked} changed in Jira "
        f"since {'the start' if since is None else as_utc(since).isoformat()}, "
        f"{applied} brought differences to tickets"
    )
    if reread:
        message += f"; {reread} re-read one by one (Jira refused the search: {refusals[0]})"
    async with ctx.transaction() as session:
        instance = await session.get(JiraInstance, instance_id)
        if instance is not None:
            instance.last_reconciled_at = started
            session.add(instance)
        await log_sync(
            session,
            instance_id=instance_id,
            direction=Direction.FROM_JIRA,
            event=Reconcile.kind,
            message=message,
        )
    log.info(
        "jira.reconcile.done",
        instance_id=instance_id,
        checked=checked,
        applied=applied,
        reread=reread,
    )


async def reconcile_all(ctx: JobContext, _job: Job[ReconcileAll]) -> None:
    """Periodic: queue a reconciliation of every active instance."""
    async with ctx.transaction() as session:
        ids = list(
            await session.scalars(
                select(col(JiraInstance.id)).where(
                    col(JiraInstance.sync_active).is_(True), col(JiraInstance.host_name) != ""
                )
            )
        )
        for instance_id in ids:
            await enqueue_reconcile(session, instance_id or 0)


def register(registry: JobRegistry) -> None:
    registry.register(Reconcile, reconcile)
    registry.register_periodic(ReconcileAll, reconcile_all, lambda s: s.reconcile_interval_seconds)
