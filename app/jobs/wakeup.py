"""Waking workers the moment a job is committed: an in-process event, and PostgreSQL
LISTEN/NOTIFY for workers in other processes (the NOTIFY sent after the commit, from a connection
of its own: `core/notify.py` says why). A wake names the kinds of the jobs committed (when
known), and only the workers taking one of them are woken: a lane's worker does not go looking
for work each time another lane gets some."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import is_sqlite_url
from app.core.listen import listen_forever
from app.core.notify import Notifier
from app.jobs.outbox import NOTIFY_CHANNEL, WAKE_KINDS

TakesKind = Callable[[str], bool]


class Waker:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._channels: list[tuple[asyncio.Event, TakesKind]] = []
        # PostgreSQL: tells the workers of other processes (`notifying_other_processes`).
        self.notifier: Notifier | None = None

    def channel(self, takes: TakesKind = lambda _kind: True) -> asyncio.Event:
        """An event of its own for one more waiter (a lane's worker), set on every wake about a
        kind it `takes`, and on every wake that names none."""
        event = asyncio.Event()
        self._channels.append((event, takes))
        return event

    def wake(self, kinds: Iterable[str] | None = None) -> None:
        """Wake the waiters for these kinds of jobs (None: every waiter)."""
        named = None if kinds is None else set(kinds)
        self._event.set()
        for event, takes in self._channels:
            if named is None or any(takes(kind) for kind in named):
                event.set()

    def committed(self, kinds: Iterable[str]) -> None:
        """Jobs of these kinds were committed: wake the workers taking them, here and (with a
        notifier) in the other processes."""
        named = set(kinds)
        self.wake(named)
        if self.notifier is not None:
            self.notifier.send(named)

    def after_commit(self, session: AsyncSession) -> None:
        """Call after a commit: wakes local workers when the transaction enqueued jobs."""
        kinds: set[str] | None = session.info.pop(WAKE_KINDS, None)
        if kinds:
            self.committed(kinds)

    async def wait(self, timeout: float | None, channel: asyncio.Event | None = None) -> None:
        event = channel or self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        event.clear()


def kinds_notified(payload: str) -> list[str] | None:
    """The kinds a `sync_jobs` NOTIFY names (comma-separated; empty: not said, wake all)."""
    return [kind for kind in payload.split(",") if kind] or None


async def listen_for_jobs(database_url: str, waker: Waker, stop: asyncio.Event) -> None:
    """Wake the workers on every NOTIFY of jobs another process committed, and all of them
    whenever listening (re)starts: jobs may have been committed while nobody listened."""
    await listen_forever(
        database_url,
        NOTIFY_CHANNEL,
        lambda payload: waker.wake(kinds_notified(payload)),
        stop,
        on_listening=waker.wake,
        own_sender=lambda: None if waker.notifier is None else waker.notifier.sender,
    )


@asynccontextmanager
async def notifying_other_processes(waker: Waker, database_url: str) -> AsyncIterator[None]:
    """While the block runs, jobs this process commits wake the workers of the others too
    (PostgreSQL; on SQLite every worker shares the process). What was committed before the block
    ends is still notified."""
    if is_sqlite_url(database_url):
        yield
        return
    notifier = Notifier(database_url, NOTIFY_CHANNEL)
    sending = asyncio.create_task(notifier.run())
    waker.notifier = notifier
    try:
        yield
    finally:
        waker.notifier = None
        notifier.stop()
        await sending
