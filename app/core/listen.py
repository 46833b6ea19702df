"""A PostgreSQL LISTEN connection kept open for the life of a process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg

from app.core.backoff import Backoff
from app.core.db import asyncpg_dsn
from app.core.logging import get_logger

log = get_logger(__name__)


def _nothing() -> None:
    pass


async def _connect(dsn: str, stop: asyncio.Event) -> asyncpg.Connection | None:
    """A connection, or None once `stop` is set first: a connect to a database host that does
    not answer may otherwise hold up shutdown for a minute."""
    connecting = asyncio.ensure_future(asyncpg.connect(dsn))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        connecting.cancel()
        raise
    finally:
        stopping.cancel()
    if connecting.done():
        return connecting.result()
    connecting.cancel()
    return None


async def listen_forever(
    database_url: str,
    channel: str,
    on_message: Callable[[str], None],
    stop: asyncio.Event,
    *,
    on_listening: Callable[[], None] = _nothing,
    on_lost: Callable[[], None] = _nothing,
    own_sender: Callable[[], int | None] = lambda: None,
) -> None:
    """Listen on `channel` until `stop` is set (at once, even mid-connect), reconnecting with
    backoff.

    `on_message(payload)` runs for every NOTIFY but those sent by the backend that
    `own_sender()` names (the process's own `Notifier`: the process knew of them first).
    Notifications sent while no connection listens are lost, so `on_listening()` runs each time
    listening (re)starts and `on_lost()` each time the connection is gone: callers catch up or
    stop trusting what they kept.
    """

    def heard(_connection: object, sender: int, _channel: str, payload: object) -> None:
        if sender != own_sender():
            on_message(str(payload))

    dsn = asyncpg_dsn(database_url)
    backoff = Backoff(stop)
    while not stop.is_set():
        try:
            connection = await _connect(dsn, stop)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("db.listen.connect_failed", channel=channel, error=type(exc).__name__)
            await backoff.pause()
            continue
        if connection is None:
            return
        backoff.reset()
        lost = asyncio.Event()
        try:
            await connection.add_listener(channel, heard)
            connection.add_termination_listener(lambda _conn, event=lost: event.set())
            on_listening()
            stop_task = asyncio.ensure_future(stop.wait())
            lost_task = asyncio.ensure_future(lost.wait())
            await asyncio.wait({stop_task, lost_task}, return_when=asyncio.FIRST_COMPLETED)
            stop_task.cancel()
            lost_task.cancel()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("db.listen.failed", channel=channel, error=type(exc).__name__)
        finally:
            on_lost()
            with contextlib.suppress(Exception):
                await connection.close()
