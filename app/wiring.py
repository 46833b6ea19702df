"""The composition root: which job kinds the workers run and which features hear which domain
events. Features never import each other to do this; they only offer `register` functions."""

from __future__ import annotations

import asyncio
import signal

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import app.crm.wiring as crm
import app.integration.wiring as integration
from app.core.db import create_engine
from app.core.db import session_factory as plain_session_factory
from app.core.events import EventBus
from app.core.logging import configure_logging
from app.core.settings import Settings, get_settings
from app.integration.services import JobContext, Services, feature_services
from app.jobs import maintenance
from app.jobs.kinds import JobRegistry
from app.jobs.runner import new_worker_id, running_worker
from app.jobs.wakeup import Waker


def job_registry() -> JobRegistry:
    registry = JobRegistry()
    maintenance.register(registry)
    integration.register_jobs(registry)
    crm.register_jobs(registry)
    return registry


def event_bus() -> EventBus:
    bus = EventBus()
    integration.subscribe(bus)
    return bus


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Units of work that publish domain events to every subscribed feature."""
    return plain_session_factory(engine, event_bus().session_info())


def worker_context(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    waker: Waker,
    services: Services,
) -> JobContext:
    return JobContext(
        settings=settings,
        sessions=sessions,
        waker=waker,
        worker_id=new_worker_id(),
        services=services,
    )


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
        sessions = session_factory(engine)
        async with feature_services(settings, sessions=sessions) as services:
            ctx = worker_context(settings, sessions, Waker(), services)
            async with running_worker(ctx, job_registry()):
                await stopped.wait()
    finally:
        await engine.dispose()
