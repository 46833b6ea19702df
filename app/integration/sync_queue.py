"""The sync queue as an admin sees it: the jobs still to run, retrying or failed, each with the
ticket and Jira instance it is about; a failed one run again (`Retry`) or discarded.

A job's ticket is its payload's `ticket_id`; its instance the payload's `instance_id`, else the
ticket's. Done jobs are not part of the queue (they are pruned after a while anyway)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import Conflict, NotFound
from app.helpdesk.history import SYNC_DISCARDED, SYNC_RETRIED, add_history
from app.helpdesk.models import JiraSyncStatus, Ticket
from app.integration.job_kinds import LinkTicket, PushComment
from app.jobs import outbox
from app.jobs.models import JobStatus, SyncJob


class QueueStatus(StrEnum):
    QUEUED = "Queued"
    RUNNING = "Running"
    RETRYING = "Retrying"
    FAILED = "Failed"


def queue_status(status: str, attempts: int) -> QueueStatus | None:
    """How the queue names a job's state (None: done, not in the queue)."""
    if status == JobStatus.QUEUED:
        return QueueStatus.RETRYING if attempts > 0 else QueueStatus.QUEUED
    if status == JobStatus.RUNNING:
        return QueueStatus.RUNNING
    if status == JobStatus.FAILED:
        return QueueStatus.FAILED
    return None


@dataclass(frozen=True)
class QueueFilters:
    status: QueueStatus | None = None
    kind: str | None = None
    ticket_id: int | None = None
    jira_instance_id: int | None = None


@dataclass(frozen=True)
class QueuedJob:
    id: int
    kind: str
    status: QueueStatus
    ticket_id: int | None
    jira_instance_id: int | None
    attempts: int
    last_error: str | None
    next_try: datetime | None
    date_created: datetime


def _ticket_id() -> Any:
    return col(SyncJob.payload)["ticket_id"].as_integer()


def _instance_id() -> Any:
    return func.coalesce(
        col(SyncJob.payload)["instance_id"].as_integer(), col(Ticket.jira_instance_id)
    )


def _status_condition(status: QueueStatus) -> Any:
    return {
        QueueStatus.QUEUED: and_(
            col(SyncJob.status) == JobStatus.QUEUED, col(SyncJob.attempts) == 0
        ),
        QueueStatus.RETRYING: and_(
            col(SyncJob.status) == JobStatus.QUEUED, col(SyncJob.attempts) > 0
        ),
        QueueStatus.RUNNING: col(SyncJob.status) == JobStatus.RUNNING,
        QueueStatus.FAILED: col(SyncJob.status) == JobStatus.FAILED,
    }[status]


def _queue_query(filters: QueueFilters) -> Any:
    query = (
        select(SyncJob, _ticket_id().label("ticket_id"), _instance_id().label("instance_id"))
        .outerjoin(Ticket, col(Ticket.id) == _ticket_id())
        .where(col(SyncJob.status) != JobStatus.DONE)
    )
    if filters.status is not None:
        query = query.where(_status_condition(filters.status))
    if filters.kind is not None:
        query = query.where(col(SyncJob.kind) == filters.kind)
    if filters.ticket_id is not None:
        query = query.where(_ticket_id() == filters.ticket_id)
    if filters.jira_instance_id is not None:
        query = query.where(_instance_id() == filters.jira_instance_id)
    return query


def _view(job: SyncJob, ticket_id: int | None, instance_id: int | None) -> QueuedJob:
    status = queue_status(job.status, job.attempts) or QueueStatus.QUEUED
    waiting = status in (QueueStatus.QUEUED, QueueStatus.RETRYING)
    return QueuedJob(
        id=job.id or 0,
        kind=job.kind,
        status=status,
        ticket_id=ticket_id,
        jira_instance_id=instance_id,
        attempts=job.attempts,
        last_error=job.last_error,
        next_try=job.run_after if waiting else None,
        date_created=job.created_at,
    )


async def queue_page(
    session: AsyncSession, filters: QueueFilters, page: int, size: int
) -> tuple[list[QueuedJob], int]:
    """Oldest first (the order they run in), and how many match in all."""
    query = _queue_query(filters)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.execute(
        query.order_by(col(SyncJob.id)).offset((page - 1) * size).limit(size)
    )
    return [_view(job, ticket_id, instance_id) for job, ticket_id, instance_id in rows], total


async def queued_job(session: AsyncSession, job_id: int) -> QueuedJob:
    row = (
        await session.execute(_queue_query(QueueFilters()).where(col(SyncJob.id) == job_id))
    ).first()
    if row is None:
        raise NotFound(f"Sync job {job_id} not found (done jobs leave the queue).")
    job, ticket_id, instance_id = row
    return _view(job, ticket_id, instance_id)


def describe_job(kind: str, payload: dict[str, Any]) -> str:
    """A job in the words of the ticket's History."""
    if kind == LinkTicket.kind:
        return f"link to {payload.get('key')}"
    if kind == PushComment.kind:
        return f"action {payload.get('action_id')} as a Jira comment"
    return kind


async def _failed_job(session: AsyncSession, job_id: int, doing: str) -> tuple[SyncJob, QueuedJob]:
    view = await queued_job(session, job_id)
    if view.status is not QueueStatus.FAILED:
        raise Conflict(f"Sync job {job_id} is {view.status}; only a Failed job can be {doing}.")
    job = await session.get(SyncJob, job_id)
    assert job is not None
    return job, view


async def retry_job(session: AsyncSession, job_id: int, actor: str) -> QueuedJob:
    """Run a failed job again. A link that ended in Error is Pending again, so the ticket
    follows the new outcome (Linked, or Error with the new reason)."""
    job, view = await _failed_job(session, job_id, "retried")
    kind, payload = job.kind, dict(job.payload)
    if not await outbox.requeue_failed(session, job_id):
        raise Conflict(f"Sync job {job_id} changed meanwhile; look again.")
    if view.ticket_id is not None and (ticket := await session.get(Ticket, view.ticket_id)):
        if kind == LinkTicket.kind and _link_in_error(ticket, str(payload.get("key", ""))):
            ticket.jira_sync_status = JiraSyncStatus.PENDING
            session.add(ticket)
        await add_history(
            session,
            view.ticket_id,
            SYNC_RETRIED.text(actor=actor, what=describe_job(kind, payload)),
        )
    await session.flush()
    session.expire_all()  # the job row was changed by a statement: read it again
    return await queued_job(session, job_id)


def _link_in_error(ticket: Ticket, requested: str) -> bool:
    return (
        ticket.jira_sync_status == JiraSyncStatus.ERROR
        and (ticket.jira_requested_key or "").upper() == requested.upper()
    )


async def discard_job(session: AsyncSession, job_id: int, actor: str) -> None:
    """Delete a failed job, saying so in its ticket's History."""
    job, view = await _failed_job(session, job_id, "discarded")
    what = describe_job(job.kind, dict(job.payload))
    if not await outbox.discard_failed(session, job_id):
        raise Conflict(f"Sync job {job_id} changed meanwhile; look again.")
    if view.ticket_id is not None and await session.get(Ticket, view.ticket_id) is not None:
        await add_history(session, view.ticket_id, SYNC_DISCARDED.text(actor=actor, what=what))
