"""The job outbox: jobs are rows written in the same transaction as the change that asks for
them, claimed by workers with row locks, retried with backoff and finished exactly once."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy import insert as sa_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col

from app.core.db import is_postgres, table_of, utcnow
from app.jobs.kinds import JobPayload
from app.jobs.metrics import JOBS_ENQUEUED
from app.jobs.models import PENDING_SQL, JobStatus, SyncJob

# PostgreSQL: a process notifies this channel after committing jobs, naming their kinds
# (`jobs/wakeup.py`), so that the workers of the other processes wake.
NOTIFY_CHANNEL = "sync_jobs"
# In a session's info: the kinds of the jobs its transaction enqueued (wakes at commit).
WAKE_KINDS = "sync_jobs_enqueued"


def _wake_at_commit(session: AsyncSession, kind: str) -> None:
    session.info.setdefault(WAKE_KINDS, set()).add(kind)


_JOBS = table_of(SyncJob)
# Built once, on the table: every change queues a job or more, and an object added to the
# session would cost its flush more than this statement costs.
_INSERT_JOB = sa_insert(_JOBS).returning(_JOBS.c.id)
# Built once: an alias is costly to make per statement.
_PENDING_NAME = "pending"
_PENDING = _JOBS.alias(_PENDING_NAME)


async def enqueue(
    session: AsyncSession, payload: JobPayload, *, run_after: datetime | None = None
) -> int:
    """Add a job to the caller's transaction; its id. Workers are woken when it commits (by the
    unit of work's waker: in this process, and in the others by its NOTIFY). The row is written
    from plain values: a `SyncJob` built and dumped for it cost more than the insert."""
    now = utcnow()
    row = {
        "kind": payload.kind,
        "payload": payload.model_dump(mode="json"),
        "ordering_key": payload.ordering_key(),
        "status": JobStatus.QUEUED,
        "attempts": 0,
        "run_after": run_after or now,
        "created_at": now,
        "updated_at": now,
    }
    job_id: int = (await session.execute(_INSERT_JOB, row)).scalar_one()
    _wake_at_commit(session, payload.kind)
    JOBS_ENQUEUED.labels(payload.kind).inc()
    return job_id


def first_in_order() -> Any:
    """No earlier job of the same ordering key is queued or running: the job is the first of
    the jobs still to run of its key. Asked as one grouping of those jobs (the partial index
    `ix_sync_jobs_pending_order`, its condition written out the same way), not per waiting job:
    a backlog of thousands costs milliseconds, not seconds."""
    firsts = (
        select(func.min(_PENDING.c.id))
        .where(text(f"{_PENDING_NAME}.{PENDING_SQL}"))
        .group_by(_PENDING.c.ordering_key)
    )
    return or_(_JOBS.c.ordering_key.is_(None), _JOBS.c.id.in_(firsts))


def _claimable(now: BindParameter[datetime]) -> Any:
    jobs = _JOBS.c
    ready = or_(
        and_(jobs.status == JobStatus.QUEUED, jobs.run_after <= now),
        and_(jobs.status == JobStatus.RUNNING, jobs.lease_until < now),
    )
    return and_(ready, first_in_order())


async def claim(
    session: AsyncSession,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    kinds: Sequence[str] | None = None,
    other_kinds: Sequence[str] = (),
) -> Sequence[SyncJob]:
    """Take up to `limit` ready jobs (and jobs whose lease expired) in one short transaction.

    PostgreSQL skips rows other workers hold (FOR UPDATE SKIP LOCKED); SQLite's single writer
    (BEGIN IMMEDIATE) makes the same statement safe there. A lane's worker takes only `kinds`
    (when given) and never `other_kinds` (the default lane: every kind but the other lanes').
    """
    statement = _claim_statement(is_postgres(session), _lane(kinds), tuple(other_kinds))
    parameters = _claim_parameters(worker_id, limit, lease_seconds)
    jobs = (await session.scalars(statement, parameters)).all()
    return sorted(jobs, key=lambda job: job.id or 0)


def _claim_parameters(worker_id: str, limit: int, lease_seconds: float) -> dict[str, Any]:
    now = utcnow()
    lease_until = now + timedelta(seconds=lease_seconds)
    return {"now": now, "lease_until": lease_until, "worker_id": worker_id, "limit": limit}


def _lane(kinds: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if kinds is None else tuple(kinds)


@functools.cache
def _claim_statement(
    postgres: bool, kinds: tuple[str, ...] | None, other_kinds: tuple[str, ...]
) -> Any:
    """Built once per lane (a worker claims with the same one again and again): making the
    statement cost more than running it. Its values are bound at each claim. The UPDATE is on
    the table, its rows loaded as jobs by the SELECT around it: an ORM-enabled UPDATE is copied
    at every run, and its cache key (for this statement, about 0.4 ms) made again."""
    return select(SyncJob).from_statement(_claim_update(postgres, kinds, other_kinds))


def _claim_update(
    postgres: bool, kinds: tuple[str, ...] | None, other_kinds: tuple[str, ...]
) -> Any:
    now = bindparam("now", type_=DateTime(timezone=True))
    jobs = _JOBS.c
    candidates = (
        select(jobs.id)
        .where(_claimable(now), *_of_kinds(kinds, other_kinds, jobs.kind))
        .order_by(jobs.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if postgres:
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = (
        update(_JOBS)
        .where(jobs.id.in_(candidates.scalar_subquery()))
        .values(
            status=JobStatus.RUNNING,
            locked_by=bindparam("worker_id"),
            lease_until=bindparam("lease_until"),
            attempts=jobs.attempts + 1,
            updated_at=now,
        )
        .returning(*_JOBS.c)
    )
    return claimed


async def renew_leases(
    session: AsyncSession, job_ids: Sequence[int], worker_id: str, lease_seconds: float
) -> set[int]:
    """Extend running jobs' leases (a job's own, and those of the jobs it took from behind it);
    the ids still ours."""
    parameters = held_parameters(job_ids, worker_id)
    parameters["lease_until"] = parameters["now"] + timedelta(seconds=lease_seconds)
    return set((await session.scalars(_RENEW, parameters)).all())


async def finish(session: AsyncSession, job_ids: Sequence[int], worker_id: str) -> int:
    """Mark jobs done, but not one another worker took over after our lease ran out; how many
    were marked."""
    result = await session.execute(FINISH, held_parameters(job_ids, worker_id))
    return int(getattr(result, "rowcount", 0) or 0)


async def requeue_held(session: AsyncSession, job_ids: Sequence[int], worker_id: str) -> int:
    """Queue running jobs this worker holds again, ready at once (a worker stopping with jobs
    it could not finish); their attempts stay counted. How many were queued."""
    result = await session.execute(_REQUEUE, held_parameters(job_ids, worker_id))
    return int(getattr(result, "rowcount", 0) or 0)


def held_parameters(job_ids: Sequence[int], worker_id: str) -> dict[str, Any]:
    """What a statement of `update_held` binds (`FINISH`, `_REQUEUE`, `_RENEW` adds its lease)."""
    return {"job_ids": list(job_ids), "worker_id": worker_id, "now": utcnow()}


def update_held() -> Any:
    """An UPDATE of the running jobs named by `job_ids` that the worker `worker_id` holds (its
    lease did not run out into another worker's claim)."""
    return update(_JOBS).where(
        _JOBS.c.id.in_(bindparam("job_ids", expanding=True)),
        _JOBS.c.locked_by == bindparam("worker_id"),
        _JOBS.c.status == JobStatus.RUNNING,
    )


def queue_held_again() -> Any:
    """`update_held` putting those jobs back in the queue, for any worker to claim (more
    columns may be set with `.values`)."""
    return update_held().values(
        status=JobStatus.QUEUED, locked_by=None, lease_until=None, updated_at=bindparam("now")
    )


# Built once, bound at each use: a job's own statements cost more to make than to run. On the
# table: an ORM-enabled UPDATE costs about a third more to run, and nothing here needs it.
FINISH = update_held().values(
    status=JobStatus.DONE, lease_until=None, updated_at=bindparam("now"), last_error=None
)
_REQUEUE = queue_held_again().values(run_after=bindparam("now"))
_RENEW = (
    update_held()
    .values(lease_until=bindparam("lease_until"), updated_at=bindparam("now"))
    .returning(_JOBS.c.id)
)


async def retry_later(
    session: AsyncSession, job: SyncJob, worker_id: str, message: str, delay: float
) -> None:
    await session.execute(
        update(SyncJob)
        .where(col(SyncJob.id) == job.id, col(SyncJob.locked_by) == worker_id)
        .values(
            status=JobStatus.QUEUED,
            lease_until=None,
            locked_by=None,
            last_error=message,
            run_after=utcnow() + timedelta(seconds=delay),
            updated_at=utcnow(),
        )
    )


async def fail(session: AsyncSession, job: SyncJob, worker_id: str, message: str) -> None:
    await session.execute(
        update(SyncJob)
        .where(col(SyncJob.id) == job.id, col(SyncJob.locked_by) == worker_id)
        .values(status=JobStatus.FAILED, lease_until=None, last_error=message, updated_at=utcnow())
    )


async def requeue_failed(session: AsyncSession, job_id: int) -> bool:
    """Run a failed job again, with its whole retry budget; False when it is not failed. Workers
    are woken at the commit, in this process and (PostgreSQL) in the others."""
    kind = await session.scalar(
        update(SyncJob)
        .where(col(SyncJob.id) == job_id, col(SyncJob.status) == JobStatus.FAILED)
        .values(
            status=JobStatus.QUEUED,
            attempts=0,
            run_after=utcnow(),
            lease_until=None,
            locked_by=None,
            updated_at=utcnow(),
        )
        .returning(col(SyncJob.kind))
        .execution_options(synchronize_session=False)
    )
    if kind is None:
        return False
    _wake_at_commit(session, kind)
    return True


async def discard_failed(session: AsyncSession, job_id: int) -> bool:
    """Delete a failed job; False when it is not failed."""
    result = await session.execute(
        delete(SyncJob).where(col(SyncJob.id) == job_id, col(SyncJob.status) == JobStatus.FAILED)
    )
    return bool(getattr(result, "rowcount", 0))


def _of_kinds(
    kinds: Sequence[str] | None, other_kinds: Sequence[str], kind: Any = _JOBS.c.kind
) -> list[Any]:
    return [
        *([kind.in_(list(kinds))] if kinds is not None else []),
        *([kind.not_in(list(other_kinds))] if other_kinds else []),
    ]


@dataclass(frozen=True)
class Lookahead:
    """What a worker's claim left behind: when the next job becomes ready (`due`), and whether
    a job waits behind another of its ordering key (`waiting`: finishing that one readies it)."""

    due: datetime | None
    waiting: bool


async def lookahead(
    session: AsyncSession, kinds: Sequence[str] | None = None, other_kinds: Sequence[str] = ()
) -> Lookahead:
    """When the next queued job (of a lane) becomes ready or a running job's lease runs out,
    and whether a job waits behind another of its ordering key.

    A job waiting so is not counted as due: it becomes ready when the one ahead finishes, and
    the worker finishing that one (of the same lane) looks for work again (counting it would
    have an idle worker ask again and again while it waits). A worker whose jobs have none
    waiting behind them does not look again when they finish."""
    *moments, waiting = (
        await session.execute(_lookahead_statement(_lane(kinds), tuple(other_kinds)))
    ).one()
    due = min((moment for moment in moments if moment is not None), default=None)
    return Lookahead(due, bool(waiting))


async def claim_looking_ahead(
    session: AsyncSession,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    kinds: Sequence[str] | None = None,
    other_kinds: Sequence[str] = (),
) -> tuple[Sequence[SyncJob], Lookahead | None]:
    """`claim`, and when it found fewer jobs than `limit`, the `lookahead` after it (else None):
    on PostgreSQL one statement (the claim's UPDATE in a CTE, the lookahead leaving out the jobs
    it claimed and counting their new leases, as it would read them a statement later)."""
    if not is_postgres(session):
        batch = await claim(session, worker_id, limit, lease_seconds, kinds, other_kinds)
        ahead = await lookahead(session, kinds, other_kinds) if len(batch) < limit else None
        return batch, ahead
    statement = _claim_ahead_statement(_lane(kinds), tuple(other_kinds))
    parameters = _claim_parameters(worker_id, limit, lease_seconds)
    rows = (await session.execute(statement, parameters)).all()
    names = [column.name for column in _JOBS.c]
    batch = [SyncJob(**dict(zip(names, row, strict=False))) for row in rows if row[0] is not None]
    filled, *moments, waiting = rows[0][len(names) :]
    due = min((moment for moment in moments if moment is not None), default=None)
    return sorted(batch, key=lambda job: job.id or 0), (
        None if filled else Lookahead(due, bool(waiting))
    )


@functools.cache
def _claim_ahead_statement(kinds: tuple[str, ...] | None, other_kinds: tuple[str, ...]) -> Any:
    """Built once per lane; the lookahead's subqueries run only when the claim is not full."""
    claimed = _claim_update(True, kinds, other_kinds).cte("claimed")
    limit = bindparam("limit", type_=Integer)
    filled = select(func.count()).select_from(claimed).scalar_subquery() >= limit
    queued, leased, waiting = _ahead(kinds, other_kinds, _JOBS.c.id.not_in(select(claimed.c.id)))
    own_lease = select(func.min(claimed.c.lease_until)).scalar_subquery()
    ahead = select(
        filled.label("filled"),
        *(
            case((filled, None), else_=column).label(name)
            for name, column in (("queued", queued), ("leased", leased), ("own_lease", own_lease))
        ),
        case((filled, False), else_=waiting).label("waiting"),
    ).subquery("ahead")
    return select(claimed, ahead).select_from(ahead.outerjoin(claimed, true()))


@functools.cache
def _lookahead_statement(kinds: tuple[str, ...] | None, other_kinds: tuple[str, ...]) -> Any:
    """Built once per lane, like the claim."""
    return select(*_ahead(kinds, other_kinds))


def _ahead(kinds: tuple[str, ...] | None, other_kinds: tuple[str, ...], *but: Any) -> list[Any]:
    """The lookahead's three columns, leaving out the jobs `but` names (those just claimed)."""
    of_kinds = [*_of_kinds(kinds, other_kinds), *but]
    jobs = _JOBS.c
    queued = (
        select(func.min(jobs.run_after))
        .where(jobs.status == JobStatus.QUEUED, first_in_order(), *of_kinds)
        .scalar_subquery()
    )
    leased = (
        select(func.min(jobs.lease_until))
        .where(jobs.status == JobStatus.RUNNING, *of_kinds)
        .scalar_subquery()
    )
    # An ordering key with more than one job still to run (the partial index again).
    shared_key = (
        select(_PENDING.c.ordering_key)
        .where(
            text(f"{_PENDING_NAME}.{PENDING_SQL}"),
            _PENDING.c.ordering_key.is_not(None),
            *_of_kinds(kinds, other_kinds, _PENDING.c.kind),
        )
        .group_by(_PENDING.c.ordering_key)
        .having(func.count() > 1)
    )
    return [queued, leased, shared_key.exists()]
