"""A PostgreSQL LISTEN connection kept open for the life of a process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg

from app.core.db import asyncpg_dsn
from app.core.logging import get_logger

log = get_logger(__name__)


def _nothing() -> None:
    pass


async def listen_forever(
    database_url: str,
    channel: str,
    on_message: Callable[[str], None],
    stop: asyncio.Event,
    *,
    on_listening: Callable[[], None] = _nothing,
    on_lost: Callable[[], None] = _nothing,
) -> None:
    """Listen on `channel` until `stop` is set, reconnecting with backoff.

    `on_message(payload)` runs for every NOTIFY. Notifications sent while no connection listens
    are lost, so `on_listening()` runs each time listening (re)starts and `on_lost()` each time
    the connection is gone: callers catch up or stop trusting what they kept.
    """
    dsn = asyncpg_dsn(database_url)
    delay = 0.5
    while not stop.is_set():
        try:
            connection = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("db.listen.connect_failed", channel=channel, error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 10.0)
            continue
        delay = 0.5
        lost = asyncio.Event()
        try:
            await connection.add_listener(channel, lambda *args: on_message(str(args[-1])))
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
