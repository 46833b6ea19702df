"""Waking workers the moment a job is committed: an in-process event, and PostgreSQL
LISTEN/NOTIFY for workers in other processes."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import asyncpg_dsn
from app.core.logging import get_logger
from app.sync.jobs import NOTIFY_CHANNEL, WAKE_FLAG

log = get_logger(__name__)


class Waker:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    def after_commit(self, session: AsyncSession) -> None:
        """Call after a commit: wakes local workers when the transaction enqueued jobs."""
        if session.info.pop(WAKE_FLAG, False):
            self.wake()

    async def wait(self, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


async def listen_for_jobs(database_url: str, waker: Waker, stop: asyncio.Event) -> None:
    """Keep a LISTEN connection open (reconnecting) and wake the worker on every NOTIFY."""
    dsn = asyncpg_dsn(database_url)
    delay = 0.5
    while not stop.is_set():
        try:
            connection = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("sync.listen.connect_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 10.0)
            continue
        delay = 0.5
        lost = asyncio.Event()
        try:
            await connection.add_listener(NOTIFY_CHANNEL, lambda *_: waker.wake())
            connection.add_termination_listener(lambda _conn, event=lost: event.set())
            waker.wake()  # jobs may have been committed while we were not listening
            stop_task = asyncio.ensure_future(stop.wait())
            lost_task = asyncio.ensure_future(lost.wait())
            await asyncio.wait({stop_task, lost_task}, return_when=asyncio.FIRST_COMPLETED)
            stop_task.cancel()
            lost_task.cancel()
        finally:
            with contextlib.suppress(Exception):
                await connection.close()
