"""A job's last write and its being done in one statement on PostgreSQL: the write, with a
RETURNING, and `outbox.FINISH` as data-modifying CTEs of one SELECT that counts what each
changed. In a unit of work it is a round trip fewer; alone (`WorkerContext.write_and_finish`)
it commits on its own, with no BEGIN and COMMIT around it. Either way the job is done exactly
when its write is. Elsewhere (SQLite) they are two statements of one transaction."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from app.core.db import is_postgres
from app.jobs import outbox


@dataclass(frozen=True)
class LastWrite:
    """A statement built once (with a RETURNING) and its parameters for this job."""

    statement: UpdateBase
    parameters: Mapping[str, Any]


async def write_and_finish(
    session: AsyncSession, write: LastWrite, job_ids: Sequence[int], worker_id: str
) -> int:
    """`write`, and the jobs done as `outbox.finish` marks them; how many rows the write
    changed."""
    if not is_postgres(session):
        written = len((await session.execute(write.statement, write.parameters)).all())
        await outbox.finish(session, job_ids, worker_id)
        return written
    bound = {**write.parameters, **outbox.held_parameters(job_ids, worker_id)}
    changed, _ = (await session.execute(with_finish(write.statement), bound)).one()
    return int(changed)


@functools.cache
def with_finish(write: UpdateBase) -> Any:
    """Built once per write (bound at each use): (rows `write` changed, jobs marked done).
    No parameter of the write may be named as a column of the jobs' table: SQLAlchemy would
    set that column of the jobs to it too."""
    jobs = outbox.FINISH.table
    if clashing := set(write.compile().params) & set(jobs.c.keys()):
        raise ValueError(f"parameters named as columns of {jobs.name}: {sorted(clashing)}")
    written = write.cte("written")
    finished = outbox.FINISH.returning(jobs.c.id).cte("finished")
    return select(
        select(func.count()).select_from(written).scalar_subquery(),
        select(func.count()).select_from(finished).scalar_subquery(),
    )
