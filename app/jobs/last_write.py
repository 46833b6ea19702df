"""A job's last write and its being done in one statement (PostgreSQL): the write, with a
RETURNING, and `outbox.FINISH` as data-modifying CTEs of one SELECT that counts what each
changed. It commits on its own, so the job needs no BEGIN and COMMIT round trips around them,
and it is atomic: the job is done exactly when its write is."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql.dml import UpdateBase

from app.core.db import utcnow
from app.jobs import outbox


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


def finish_parameters(job_ids: Sequence[int], worker_id: str) -> dict[str, Any]:
    """`outbox.FINISH`'s parameters, as `outbox.finish` binds them."""
    return {"job_ids": list(job_ids), "worker_id": worker_id, "now": utcnow()}
