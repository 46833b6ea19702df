"""The outbox's own upkeep: done jobs are removed after their retention, so it stays small."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core.db import utcnow
from app.core.logging import get_logger
from app.jobs import outbox
from app.jobs.context import WorkerContext
from app.jobs.kinds import Job, JobRegistry, PeriodicPayload

log = get_logger(__name__)


class PruneJobs(PeriodicPayload):
    kind = "maintenance.prune_jobs"


async def prune(ctx: WorkerContext[Any], _job: Job[PruneJobs]) -> None:
    """Periodic: remove done jobs past their retention."""
    cutoff = utcnow() - timedelta(seconds=ctx.settings.done_job_retention_seconds)
    async with ctx.transaction() as session:
        removed = await outbox.prune_done(session, cutoff)
    if removed:
        log.info("sync.jobs.pruned", removed=removed)


def register(registry: JobRegistry) -> None:
    registry.register_periodic(PruneJobs, prune, lambda s: s.done_job_retention_seconds / 4)
