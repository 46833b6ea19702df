"""A PostgreSQL NOTIFY sent from a connection of its own, after the commits that call for it.

PostgreSQL commits the transactions that NOTIFY one at a time: each holds a database-wide lock
from its NOTIFY's queueing until its commit is flushed, so a NOTIFY inside every webhook
delivery's insert made those commits wait on each other (`Lock: object` in
`pg_stat_activity`) where they would otherwise be flushed together. Sent here instead, a
notification is a statement of its own, and the names given while one is on its way go out
together in the next: one NOTIFY per round trip, however many commits asked for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

import asyncpg

from app.core.backoff import Backoff
from app.core.db import asyncpg_dsn
from app.core.logging import get_logger

log = get_logger(__name__)

NOTIFY = "SELECT pg_notify($1, $2)"
# A database host that does not answer holds a stopping process up this long at most (what was
# given before the stop is still sent when it does answer).
CONNECT_TIMEOUT_SECONDS = 5.0


class Notifier:
    """Notifies `channel` with the names given (comma-separated, merged while one is sent) until
    stopped; what was given before the stop is still sent, if the database answers."""

    def __init__(self, database_url: str, channel: str) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._channel = channel
        self._pending: set[str] = set()
        self._given = asyncio.Event()
        self._stopping = asyncio.Event()
        self._connection: asyncpg.Connection | None = None

    @property
    def sender(self) -> int | None:
        """The server process id that sends the notifications (None while not connected): a
        listener in the same process skips what it sends."""
        return None if self._connection is None else self._connection.get_server_pid()

    def send(self, names: Iterable[str]) -> None:
        """Notify these names soon (at once unless a notification is on its way)."""
        self._pending.update(names)
        self._given.set()

    def stop(self) -> None:
        """Make `run` return once what was given is sent (or the database does not answer)."""
        self._stopping.set()
        self._given.set()

    async def run(self) -> None:
        """Send what is given until stopped, reconnecting with backoff."""
        backoff = Backoff(self._stopping)
        try:
            while True:
                await self._given.wait()
                self._given.clear()
                if not self._pending:
                    if self._stopping.is_set():
                        return
                    continue
                if await self._send_pending():
                    backoff.reset()
                elif self._stopping.is_set():
                    return  # the database is away: other processes look again when idle
                else:
                    await backoff.pause()
                    self._given.set()
        finally:
            await self._close()

    async def _send_pending(self) -> bool:
        names, self._pending = self._pending, set()
        try:
            if self._connection is None:
                self._connection = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECONDS)
            await self._connection.execute(NOTIFY, self._channel, ",".join(sorted(names)))
        except Exception as exc:  # whatever the connection's failure, it is tried anew
            log.warning("db.notify.failed", channel=self._channel, error=type(exc).__name__)
            self._pending |= names
            if self._connection is not None:
                self._connection.terminate()  # its state is unknown: a new one next time
                self._connection = None
            return False
        self._given.set()  # names given meanwhile go next, if any
        return True

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=1)
