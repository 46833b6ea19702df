"""Finished jobs are written done in batches: those finishing while a write is in flight go
together in the next write; a job finishing alone is written at once."""

from __future__ import annotations

import asyncio

from app.jobs.finisher import Finisher
from app.jobs.models import SyncJob


async def test_jobs_finishing_during_a_write_share_the_next_one() -> None:
    writes: list[list[int]] = []
    first_write_started, release_first = asyncio.Event(), asyncio.Event()

    async def write(jobs: list[SyncJob]) -> None:
        writes.append([job.id or 0 for job in jobs])
        if len(writes) == 1:
            first_write_started.set()
            await release_first.wait()

    finisher = Finisher(write)
    first = asyncio.create_task(finisher.finish(SyncJob(id=1, kind="k")))
    await first_write_started.wait()
    later = [asyncio.create_task(finisher.finish(SyncJob(id=n, kind="k"))) for n in (2, 3, 4)]
    await asyncio.sleep(0)  # let them queue behind the write in flight
    assert not any(task.done() for task in [first, *later])
    release_first.set()
    await asyncio.gather(first, *later)

    assert writes == [[1], [2, 3, 4]]


async def test_a_job_finishing_alone_is_written_at_once() -> None:
    writes: list[list[int]] = []

    async def write(jobs: list[SyncJob]) -> None:
        writes.append([job.id or 0 for job in jobs])

    finisher = Finisher(write)
    await finisher.finish(SyncJob(id=7, kind="k"))
    await finisher.finish(SyncJob(id=8, kind="k"))

    assert writes == [[7], [8]]


async def test_a_failed_write_reaches_every_job_in_it() -> None:
    async def write(_jobs: list[SyncJob]) -> None:
        raise ConnectionResetError("gone")

    finisher = Finisher(write)
    results = await asyncio.gather(
        finisher.finish(SyncJob(id=1, kind="k")),
        finisher.finish(SyncJob(id=2, kind="k")),
        return_exceptions=True,
    )
    assert all(isinstance(result, ConnectionResetError) for result in results)
