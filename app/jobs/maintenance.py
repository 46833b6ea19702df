"""The outbox's own upkeep: each periodic job's chain started (`ensure_periodic`), and done jobs
removed after their retention, so that it stays small."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.logging import get_logger
from app.core.settings import Settings
from app.jobs.context import WorkerContext
from app.jobs.kinds import Job, JobRegistry, PeriodicPayload
from app.jobs.models import JobStatus, SyncJob
from app.jobs.outbox import enqueue

log = get_logger(__name__)


class PruneJobs(PeriodicPayload):
    kind = "maintenance.prune_jobs"


async def prune(ctx: WorkerContext[Any], _job: Job[PruneJobs]) -> None:
    """Periodic: remove done jobs past their retention."""
    cutoff = utcnow() - timedelta(seconds=ctx.settings.done_job_retention_seconds)
    async with ctx.transaction() as session:
        removed = await prune_done(session, cutoff)
    if removed:
        log.info("sync.jobs.pruned", removed=removed)


async def prune_done(session: AsyncSession, older_than: datetime) -> int:
    result = await session.execute(
        delete(SyncJob).where(
            col(SyncJob.status) == JobStatus.DONE, col(SyncJob.updated_at) < older_than
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def ensure_periodic(session: AsyncSession, registry: JobRegistry, settings: Settings) -> None:
    """Start each enabled periodic job's chain unless a run is already queued or running."""
    for kind, (payload_type, interval) in registry.periodic.items():
        if interval(settings) <= 0:
            continue
        pending = await session.scalar(
            select(col(SyncJob.id))
            .where(
                col(SyncJob.kind) == kind,
                col(SyncJob.status).in_([JobStatus.QUEUED, JobStatus.RUNNING]),
            )
            .limit(1)
        )
        if pending is None:
            await enqueue(session, payload_type())


def register(registry: JobRegistry) -> None:
    registry.register_periodic(PruneJobs, prune, lambda s: s.done_job_retention_seconds / 4)
