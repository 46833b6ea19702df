"""Ready jobs of other ordering keys, done in a running job's transaction together with its
own: under a backlog, one transaction (and one claim, one commit, one finish) serves several
independent jobs of a kind instead of one each.

Only jobs at the head of their ordering key are taken (`outbox.first_in_order`), ready and
never tried: a job that failed before runs on its own, so one job that keeps failing cannot
hold others back more than once. They are locked, not claimed: they stay queued until the
transaction commits them done (`behind.finish_taken`); if it rolls back, they are queued as
they were, their attempts untouched. PostgreSQL skips the jobs other transactions hold (SKIP
LOCKED), and while they are locked no claim takes them, nor any job behind them.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import DateTime, Integer, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import is_postgres, utcnow
from app.jobs.models import JobStatus, SyncJob
from app.jobs.outbox import first_in_order


async def ready_heads(session: AsyncSession, kind: str, limit: int) -> list[SyncJob]:
    """Up to `limit` ready, never tried jobs of `kind`, each the first of its ordering key,
    oldest first, locked for the caller's transaction (see the module)."""
    parameters = {"kind": kind, "now": utcnow(), "limit": limit}
    return list(await session.scalars(_heads_statement(is_postgres(session)), parameters))


@functools.cache
def _heads_statement(postgres: bool) -> Any:
    query = (
        select(SyncJob)
        .where(
            col(SyncJob.kind) == bindparam("kind", type_=String),
            col(SyncJob.status) == JobStatus.QUEUED,
            col(SyncJob.run_after) <= bindparam("now", type_=DateTime(timezone=True)),
            col(SyncJob.attempts) == 0,
            col(SyncJob.ordering_key).is_not(None),
            first_in_order(),
        )
        .order_by(col(SyncJob.id))
        .limit(bindparam("limit", type_=Integer))
    )
    return query.with_for_update(skip_locked=True) if postgres else query
