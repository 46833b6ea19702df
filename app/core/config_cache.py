"""Configuration that every applied delivery asks for (the ticket statuses, the active event
subscriptions, and for an outgoing event's ticket answers the ticket types and custom fields)
kept in the process between transactions, for as long as it is unchanged.

Whether it changed is known from the database, not from this process: every write to a
configuration table (from any process, any replica, a script or psql) gives `config_stamp` a
new random stamp, by triggers (migrations 20261202_10 and 20261202_20). A transaction that read
the stamp (`saw_stamp`; an apply job reads it with its delivery, in the same statement) uses
what was kept under that stamp, else reads and keeps it. The stamp is read before the
configuration, so what is kept under a stamp is never older than the stamp: a change committed
between the two reads is kept under the older stamp, which the next transaction no longer sees.

A transaction that did not read the stamp reads the configuration once, as before
(`once_per_transaction`). What is kept is shared between sessions, so it is plain frozen values,
never a session's ORM objects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Column, Integer, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import metadata, once_per_transaction

CONFIG_STAMP = Table(
    "config_stamp",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("stamp", String(32), nullable=False),
)
# The tables whose every write gives a new stamp (the triggers of migrations 20261202_10, _20).
STAMPED_TABLES = ("ticket_statuses", "event_subscriptions", "ticket_types", "custom_fields")

_SEEN = "config_cache.stamp"  # in a session's info: (transaction, stamp)
_kept: dict[str, tuple[str, Any]] = {}  # name -> (stamp, value), for this process
KeptT = TypeVar("KeptT")
ValueT = TypeVar("ValueT")


def stamp_column() -> Any:
    """The stamp, as a column of another statement (one round trip, not two)."""
    return select(CONFIG_STAMP.c.stamp).scalar_subquery().label("config_stamp")


def saw_stamp(session: AsyncSession, stamp: str | None) -> None:
    """The stamp as the session's transaction read it (None: not known)."""
    if stamp is not None:
        session.info[_SEEN] = (session.sync_session.get_transaction(), stamp)


def _stamp_seen(session: AsyncSession) -> str | None:
    seen = session.info.get(_SEEN)
    if seen is None or seen[0] is not session.sync_session.get_transaction():
        return None
    stamp: str = seen[1]
    return stamp


async def kept_while_unchanged(
    session: AsyncSession, name: str, read: Callable[[], Awaitable[KeptT]]
) -> KeptT:
    """What `read` gives (frozen values, from the `STAMPED_TABLES` only), kept under `name`
    while the configuration's stamp stays the one this transaction saw; read once per
    transaction when it saw none."""
    stamp = _stamp_seen(session)
    kept = _kept.get(name)
    if stamp is not None and kept is not None and kept[0] == stamp:
        value: KeptT = kept[1]
        return value
    value = await once_per_transaction(session, name, read)
    if stamp is not None:
        _kept[name] = (stamp, value)
    return value


async def kept_by_id(
    session: AsyncSession,
    name: str,
    read: Callable[[], Awaitable[Mapping[int, ValueT]]],
    including: Iterable[int] = (),
) -> Mapping[int, ValueT]:
    """Rows by id, kept as `kept_while_unchanged`; read again when one of `including` is not
    among those kept: a row made, and given to what the transaction read next, between the
    stamp it read and that read (each statement sees what was committed when it began)."""
    kept = await kept_while_unchanged(session, name, read)
    return kept if set(including) <= kept.keys() else await read()
