"""Starting and stopping the worker: inside `serve` (the app's lifespan) or alone (`worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import create_engine, is_sqlite_url, session_factory
from app.core.logging import configure_logging, get_logger
from app.core.security import SecretBox
from app.core.settings import Settings, get_settings
from app.integration.services import Services, feature_services
from app.jobs.context import WorkerContext
from app.jobs.wakeup import Waker, listen_for_jobs
from app.jobs.worker import Worker
from app.wiring import job_registry

log = get_logger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


def worker_context(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    waker: Waker,
    services: Services,
) -> WorkerContext:
    return WorkerContext(
        settings=settings,
        sessions=sessions,
        secrets=SecretBox(settings.secret_key.get_secret_value()),
        waker=waker,
        worker_id=new_worker_id(),
        services=services,
    )


@asynccontextmanager
async def running_worker(ctx: WorkerContext) -> AsyncIterator[Worker]:
    """Run a worker (and, on PostgreSQL, its LISTEN connection) until the block ends."""
    worker = Worker(ctx, job_registry())
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop))]
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


async def run_worker_forever() -> None:
    """`python -m app worker`: a worker process on its own, stopped by SIGTERM or SIGINT."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        async with feature_services(settings) as services:
            ctx = worker_context(settings, session_factory(engine), Waker(), services)
            async with running_worker(ctx):
                await stopped.wait()
    finally:
        await engine.dispose()
