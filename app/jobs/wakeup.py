"""Waking workers the moment a job is committed: an in-process event, and PostgreSQL
LISTEN/NOTIFY for workers in other processes."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.listen import listen_forever
from app.jobs.outbox import NOTIFY_CHANNEL, WAKE_FLAG


class Waker:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._channels: list[asyncio.Event] = []

    def channel(self) -> asyncio.Event:
        """An event of its own for one more waiter (a lane's worker): set on every wake."""
        event = asyncio.Event()
        self._channels.append(event)
        return event

    def wake(self) -> None:
        self._event.set()
        for event in self._channels:
            event.set()

    def after_commit(self, session: AsyncSession) -> None:
        """Call after a commit: wakes local workers when the transaction enqueued jobs."""
        if session.info.pop(WAKE_FLAG, False):
            self.wake()

    async def wait(self, timeout: float | None, channel: asyncio.Event | None = None) -> None:
        event = channel or self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        event.clear()


async def listen_for_jobs(database_url: str, waker: Waker, stop: asyncio.Event) -> None:
    """Wake the worker on every NOTIFY of a committed job, and whenever listening (re)starts:
    jobs may have been committed while nobody listened."""
    await listen_forever(
        database_url, NOTIFY_CHANNEL, lambda _payload: waker.wake(), stop, on_listening=waker.wake
    )
