"""Database engine and session: SQLite (embedded default) or PostgreSQL (production)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.util import identity_key
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


def table_of(model: type[SQLModel]) -> Table:
    """A model's table, for statements built once that need no ORM (a Core UPDATE or INSERT
    costs about a third less to run than its ORM-enabled form)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def asyncpg_dsn(url: str) -> str:
    """The plain `postgresql://` DSN asyncpg takes, from a SQLAlchemy database URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    if is_sqlite_url(url):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # aiosqlite's default transaction handling would defer BEGIN; take the write lock up front
        # so concurrent writers queue on busy_timeout instead of failing on lock upgrade.
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800
    )
    event.listen(engine.sync_engine, "checkout", _drop_if_closed)
    return engine


def _drop_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server closed (a restart, a terminated backend) is replaced
    before use. asyncpg knows it without asking: the event loop has read the server's goodbye
    and the socket's end. (A ping on every checkout, SQLAlchemy's `pool_pre_ping`, costs a round
    trip per transaction: a tenth of a job's.)"""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event emit BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# PostgreSQL's unique violation, serialization failure and deadlock; SQLite's unique and primary
# key violations. Its writers never interleave (BEGIN IMMEDIATE), so a unique key there is taken
# by an earlier transaction, as it is on PostgreSQL when two inserts race.
_RACE_SQLSTATES = {"23505", "40001", "40P01"}
_RACE_SQLITE_ERRORS = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}


def lost_a_race(exc: BaseException) -> bool:
    """Whether a failed statement lost to a concurrent transaction on the same rows (a unique key
    taken meanwhile, a serialization failure, a deadlock): rolled back, the same work done again
    sees the winner's rows and ends as it would have one after the other."""
    original = getattr(exc, "orig", None)
    return (
        getattr(original, "sqlstate", None) in _RACE_SQLSTATES
        or getattr(original, "sqlite_errorname", None) in _RACE_SQLITE_ERRORS
    )


def session_factory(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions of one unit of work each; `info` is copied into every session (the event bus)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info or {})


def single_statement_sessions(
    sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession] | None:
    """Sessions on the same engine whose statements each commit on their own, for a statement
    atomic by itself: no BEGIN and COMMIT round trips around it (PostgreSQL). None on SQLite,
    whose writers take its one write lock with BEGIN IMMEDIATE."""
    engine: AsyncEngine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        return None
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
    )


RowT = TypeVar("RowT", bound=SQLModel)
KeptT = TypeVar("KeptT")


async def once_per_transaction(
    session: AsyncSession, name: str, read: Callable[[], Awaitable[KeptT]]
) -> KeptT:
    """What `read` gives, read at its first use in the session's transaction and kept for the
    rest of it under `name` (in the session's info): a short list that a change, a burst
    applied together or the answers rendered before and after a change ask for again."""
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(name)
    if transaction is not None and kept is not None and kept[0] is transaction:
        found: KeptT = kept[1]
        return found
    value = await read()
    # Asked after the read, which began the transaction when it was the first statement.
    session.info[name] = (session.sync_session.get_transaction(), value)
    return value


_ROWS_HELD = "db.rows_by_id.held"


async def rows_by_id(
    session: AsyncSession, model: type[RowT], ids: Iterable[int | None]
) -> dict[int, RowT]:
    """The rows of `model` with these ids (Nones skipped), by id: the ones the session has
    loaded as they are there (what a query would give back: the session's objects), the others
    in one query. A ticket's answer is rendered twice in a change that sends an event (before
    and after), and its issue, instance, type and status are loaded already."""
    wanted = {ident for ident in ids if ident is not None}
    found = _loaded(session, model, wanted)
    if missing := wanted - found.keys():
        statement = _rows_by_id_statement(model)
        rows: list[RowT] = list(await session.scalars(statement, {"ids": list(missing)}))
        found.update({row.id: row for row in rows})  # type: ignore[attr-defined]
        keep_for_session(session, rows)
    return found


@functools.cache
def _rows_by_id_statement(model: type[SQLModel]) -> Any:
    """Built once per model, bound per call (making it cost more than running it)."""
    table: Any = model
    return select(model).where(table.id.in_(bindparam("ids", expanding=True)))


def keep_for_session(session: AsyncSession, rows: Iterable[SQLModel]) -> None:
    """Rows read that `rows_by_id` may be asked for later in the session: its identity map holds
    rows weakly, and these stay."""
    session.info.setdefault(_ROWS_HELD, []).extend(rows)


def _loaded(session: AsyncSession, model: type[RowT], ids: set[int]) -> dict[int, RowT]:
    """The rows among `ids` the session holds with every column loaded (an expired or deferred
    one would be loaded on access, which an async session cannot do)."""
    loaded: dict[int, RowT] = {}
    for ident in ids:
        row = session.identity_map.get(identity_key(model, ident))
        if row is not None and not inspect(row).unloaded:
            loaded[ident] = row
    return loaded


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession], after_commit: Callable[[AsyncSession], None]
) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed when the block ends, rolled back on error; `after_commit`
    runs once it is committed (the workers are woken for the jobs it enqueued)."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    after_commit(session)
