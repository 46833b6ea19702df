"""Starting and stopping a worker: inside `serve` (the app's lifespan) or alone (`worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.core.db import is_sqlite_url
from app.jobs.context import WorkerContext
from app.jobs.kinds import DEFAULT_LANE, JobRegistry
from app.jobs.wakeup import listen_for_jobs
from app.jobs.worker import GiveWay, Worker


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def running_worker(
    ctx: WorkerContext[Any],
    registry: JobRegistry,
    give_way: GiveWay | None = None,
) -> AsyncIterator[Worker]:
    """Run a worker per lane (and, on PostgreSQL, the LISTEN connection) until the block ends;
    the default lane's worker is yielded. `give_way` is awaited before each claim (`serve`:
    the requests under way come first)."""
    workers = [Worker(ctx, registry, lane=lane, give_way=give_way) for lane in registry.lanes]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    worker = next(w for w in workers if w.lane == DEFAULT_LANE)
    if not is_sqlite_url(ctx.settings.database_url):
        tasks.append(
            asyncio.create_task(listen_for_jobs(ctx.settings.database_url, ctx.waker, stop))
        )
    try:
        yield worker
    finally:
        stop.set()
        ctx.waker.wake()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
