"""Marking finished jobs done in batches (a group commit): while one write is in flight, the
jobs that finish meanwhile wait for the next one, so a busy worker writes one statement for
many jobs and an idle worker writes each job's at once, without waiting for company."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from app.jobs.models import SyncJob

WriteDone = Callable[[list[SyncJob]], Awaitable[None]]


class Finisher:
    def __init__(self, write: WriteDone) -> None:
        self._write = write
        self._waiting: list[tuple[SyncJob, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def finish(self, job: SyncJob) -> None:
        """Return once the job is written done (with the others finishing at the same time)."""
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((job, written))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_waiting())
        await written

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._write([job for job, _ in batch])
                except BaseException as exc:
                    for _, written in batch:
                        if not written.done():
                            written.set_exception(exc)
                    raise
                for _, written in batch:
                    if not written.done():
                        written.set_result(None)
        finally:
            self._writer = None
