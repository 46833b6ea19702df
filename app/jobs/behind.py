"""The jobs queued right behind a running job in its ordering key, done together with it.

Two ways, by where the work happens:
- in the running job's transaction (`queued_behind`, then `finish_taken`): the taken jobs stay
  queued and locked until that transaction commits them done;
- across calls made outside a transaction (`take_behind`, then `outbox.finish` or
  `release_taken` in the transaction that keeps the outcome): the taken jobs are claimed as
  running, with the running job's lease, which the worker renews for them too, so no other
  worker runs them meanwhile; a worker that dies leaves them to be claimed again when the
  lease runs out, each with its attempt counted.

Either way no other worker claims them first: the running job holds their ordering key.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Integer, String, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import is_postgres, table_of, utcnow
from app.jobs.kinds import Job, PayloadT
from app.jobs.models import JobStatus, SyncJob
from app.jobs.outbox import queue_held_again

_JOBS = table_of(SyncJob)


async def queued_behind(
    session: AsyncSession, job_id: int, ordering_key: str, kind: str, limit: int
) -> list[SyncJob]:
    """The ready jobs of `kind` queued right behind a running job in its ordering key, oldest
    first, up to the first job of another kind, not ready yet, or running (one a dead worker's
    job had taken: it runs again first, when its lease runs out; taking those behind it would
    run them before it): the work a handler may do together with its own, in its transaction
    (see `finish_taken`). Locked for that transaction (SQLite has one writer at a time)."""
    parameters = {"ordering_key": ordering_key, "job_id": job_id, "limit": limit}
    now = utcnow()
    behind: list[SyncJob] = []
    for job in await session.scalars(_behind_statement(is_postgres(session)), parameters):
        if job.status != JobStatus.QUEUED or job.kind != kind or job.run_after > now:
            break
        behind.append(job)
    return behind


def anything_queued_behind() -> ColumnElement[bool]:
    """Whether a job is queued behind the running job `job_id` in its `ordering_key` (bound
    with `asked_behind`): a handler asks it with its first read, and `queued_behind` only then.
    A job queued later is run by its own job."""
    return (
        select(_JOBS.c.id)
        .where(
            _JOBS.c.ordering_key == bindparam("ordering_key", type_=String),
            _JOBS.c.id > bindparam("job_id", type_=Integer),
            _JOBS.c.status == JobStatus.QUEUED,
        )
        .exists()
    )


def asked_behind(job: Job[Any]) -> dict[str, object]:
    """The values `anything_queued_behind` is bound with, for the running `job`."""
    return {"job_id": job.id, "ordering_key": job.payload.ordering_key()}


@functools.cache
def _behind_statement(postgres: bool) -> Any:
    query = (
        select(SyncJob)
        .where(
            col(SyncJob.ordering_key) == bindparam("ordering_key"),
            col(SyncJob.id) > bindparam("job_id"),
            col(SyncJob.status).in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
        .order_by(col(SyncJob.id))
        .limit(bindparam("limit", type_=Integer))
    )
    return query.with_for_update() if postgres else query


async def finish_taken(session: AsyncSession, job_ids: Sequence[int], worker_id: str) -> int:
    """Mark queued jobs whose work a running job did in the caller's transaction as done
    (`queued_behind`): they are done exactly when that work commits."""
    if not job_ids:
        return 0
    parameters = {"job_ids": list(job_ids), "worker_id": worker_id, "now": utcnow()}
    result = await session.execute(_FINISH_TAKEN, parameters)
    return int(getattr(result, "rowcount", 0) or 0)


async def take_behind(
    session: AsyncSession,
    job: Job[PayloadT],
    limit: int,
    worker_id: str,
    lease_seconds: float,
) -> list[Job[PayloadT]]:
    """Claim the jobs of its kind `queued_behind` a running job, as running jobs of this worker
    with their attempt counted, in the order they run. Only jobs never tried are taken (the
    first tried one ends the run: its next attempt must first look for what the last one
    left), and only readable ones (an unreadable one's own run says so)."""
    ordering_key = job.payload.ordering_key()
    if ordering_key is None:
        return []
    taken: list[Job[PayloadT]] = []
    for row in await queued_behind(session, job.id, ordering_key, job.payload.kind, limit):
        if row.attempts:
            break
        try:
            payload = type(job.payload).model_validate(row.payload)
        except ValidationError:
            break
        taken.append(Job(row.id or 0, 1, row.created_at, payload))
    if taken:
        now = utcnow()
        parameters = {
            "job_ids": [one.id for one in taken],
            "worker_id": worker_id,
            "lease_until": now + timedelta(seconds=lease_seconds),
            "now": now,
        }
        await session.execute(_TAKE, parameters)
    return taken


async def release_taken(
    session: AsyncSession,
    worker_id: str,
    untried: Sequence[int],
    failed: int | None = None,
    *,
    error: str = "",
    retry_after: float = 0.0,
) -> None:
    """Queue taken jobs again, each to run on its own: the `untried` as they were, the one that
    `failed` with its attempt counted (it may have reached the other side: its next attempt
    looks for that first), not before `retry_after` seconds."""
    now = utcnow()
    if untried:
        parameters = {"job_ids": list(untried), "worker_id": worker_id, "now": now}
        await session.execute(_RELEASE_UNTRIED, parameters)
    if failed is not None:
        parameters = {
            "job_ids": [failed],
            "worker_id": worker_id,
            "now": now,
            "run_after": now + timedelta(seconds=retry_after),
            "error": error,
        }
        await session.execute(_RELEASE_FAILED, parameters)


# Built once, bound at each use, on the table (nothing loaded needs the ORM's update).
_QUEUED_ONES = update(_JOBS).where(
    _JOBS.c.id.in_(bindparam("job_ids", expanding=True)), _JOBS.c.status == JobStatus.QUEUED
)
_FINISH_TAKEN = _QUEUED_ONES.values(
    status=JobStatus.DONE,
    locked_by=bindparam("worker_id"),
    attempts=_JOBS.c.attempts + 1,
    lease_until=None,
    updated_at=bindparam("now"),
)
_TAKE = _QUEUED_ONES.values(
    status=JobStatus.RUNNING,
    locked_by=bindparam("worker_id"),
    attempts=_JOBS.c.attempts + 1,
    lease_until=bindparam("lease_until"),
    updated_at=bindparam("now"),
)
_RELEASE_UNTRIED = queue_held_again().values(attempts=_JOBS.c.attempts - 1)
_RELEASE_FAILED = queue_held_again().values(
    run_after=bindparam("run_after"), last_error=bindparam("error")
)
