"""A job's last writes and its being done in one statement on PostgreSQL: each write, with a
RETURNING, and `outbox.FINISH` as data-modifying CTEs of one SELECT that counts what each
changed. In a unit of work it is a round trip or more fewer; alone
(`WorkerContext.write_and_finish`) it commits on its own, with no BEGIN and COMMIT around it.
Either way the job is done exactly when its writes are. Elsewhere (SQLite) they are statements
of one transaction, in order."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import UpdateBase

from app.core.db import is_postgres
from app.jobs import outbox


@dataclass(frozen=True)
class LastWrite:
    """A statement built once (with a RETURNING) and its parameters for this job."""

    statement: UpdateBase
    parameters: Mapping[str, Any]


async def write_and_finish(
    session: AsyncSession, writes: Sequence[LastWrite], job_ids: Sequence[int], worker_id: str
) -> int:
    """`writes`, and the jobs done as `outbox.finish` marks them; how many rows the first write
    changed."""
    if not is_postgres(session):
        counts = [len((await session.execute(w.statement, w.parameters)).all()) for w in writes]
        await outbox.finish(session, job_ids, worker_id)
        return counts[0]
    bound: dict[str, Any] = outbox.held_parameters(job_ids, worker_id)
    for write in writes:
        bound.update(write.parameters)
    statement = with_finish(tuple(write.statement for write in writes))
    changed, *_ = (await session.execute(statement, bound)).one()
    return int(changed)


@functools.cache
def with_finish(writes: tuple[UpdateBase, ...]) -> Any:
    """Built once per sequence of writes (bound at each use): the rows each write changed, and
    the jobs marked done. No write's parameter may be named as a column of another table
    written (the jobs' too), nor shared by two writes: SQLAlchemy would set that column from it
    too."""
    finish = outbox.FINISH
    named: set[str] = set()
    for write in writes:
        others = {other.table for other in (*writes, finish) if other.table is not write.table}
        columns = {
            column.name for table in others if isinstance(table, Table) for column in table.c
        }
        parameters = set(write.compile().params)
        if clashing := parameters & (columns | named):
            raise ValueError(f"parameters named as columns, or twice: {sorted(clashing)}")
        named |= parameters
    ctes = [write.cte(f"written_{n}") for n, write in enumerate(writes)]
    ctes.append(finish.returning(finish.table.c.id).cte("finished"))
    return select(*(select(func.count()).select_from(cte).scalar_subquery() for cte in ctes))


def pending_update(row: Any) -> LastWrite | None:
    """The changes made to a loaded row and not written yet, as a last write (an UPDATE of
    them by its primary key), taken from the session's next flush; None when there are none."""
    state = inspect(row)
    changed = {
        key: state.dict[key]
        for key, before in state.committed_state.items()
        if key in state.dict and state.dict[key] != before
    }
    if not changed or state.identity is None:
        return None
    for key, value in changed.items():
        set_committed_value(row, key, value)
    names = tuple(sorted(changed))
    parameters = {f"pending_{key}": changed[key] for key in names}
    (parameters["pending_row"],) = state.identity
    return LastWrite(_update_of(state.mapper.local_table, names), parameters)


@functools.cache
def _update_of(table: Table, names: tuple[str, ...]) -> UpdateBase:
    """Built once per table and set of columns: `pending_update`'s statement."""
    (key,) = table.primary_key.columns
    return (
        update(table)
        .where(key == bindparam("pending_row", type_=key.type))
        .values({name: bindparam(f"pending_{name}", type_=table.c[name].type) for name in names})
        .returning(key)
    )
