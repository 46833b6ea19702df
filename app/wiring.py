"""The composition root: which job kinds the workers run and which features hear which domain
events. Features never import each other to do this; they only offer `register` functions."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import app.crm.wiring as crm
import app.integration.wiring as integration
import app.outgoing.wiring as outgoing
from app.core.db import create_engine, single_statement_sessions
from app.core.db import session_factory as plain_session_factory
from app.core.events import EventBus
from app.core.heap import startup_heap_frozen
from app.core.logging import configure_logging
from app.core.settings import Settings, get_settings
from app.integration.services import JobContext, Services, feature_services
from app.jobs import maintenance
from app.jobs.kinds import JobRegistry
from app.jobs.runner import new_worker_id, running_worker
from app.jobs.wakeup import Waker, notifying_other_processes
from app.outgoing.emit import EmitOptions
from app.outgoing.sender import EventSender, event_sender


@dataclass
class AppServices(Services):
    """Every feature's long-lived services: the integration's, and the outgoing events' sender."""

    events: EventSender


@asynccontextmanager
async def app_services(
    settings: Settings,
    jira_transport: httpx.AsyncBaseTransport | None = None,
    event_transport: httpx.AsyncBaseTransport | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[AppServices]:
    """`*_transport` let tests route calls to in-process servers (the Jira simulator, a
    receiver); `sessions` as `feature_services` takes them."""
    async with (
        feature_services(settings, jira_transport, sessions) as services,
        event_sender(settings, event_transport) as sender,
    ):
        yield AppServices(jira=services.jira, secrets=services.secrets, events=sender)


def job_registry() -> JobRegistry:
    registry = JobRegistry()
    maintenance.register(registry)
    integration.register_jobs(registry)
    crm.register_jobs(registry)
    outgoing.register_jobs(registry)
    return registry


def event_bus(settings: Settings | None = None) -> EventBus:
    bus = EventBus()
    integration.subscribe(bus)
    outgoing.subscribe(bus, EmitOptions.from_settings(settings) if settings else EmitOptions())
    return bus


def session_factory(
    engine: AsyncEngine, settings: Settings | None = None
) -> async_sessionmaker[AsyncSession]:
    """Units of work that publish domain events to every subscribed feature."""
    return plain_session_factory(engine, event_bus(settings).session_info())


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
        claim_sessions=single_statement_sessions(sessions),
    )


async def run_worker_forever() -> None:
    """`python -m app worker`: a worker process on its own, stopped by SIGTERM or SIGINT."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.pool_size,
        max_overflow=settings.db_max_overflow,
    )
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        sessions = session_factory(engine, settings)
        waker = Waker()
        async with (
            notifying_other_processes(waker, settings.database_url),
            app_services(settings, sessions=sessions) as services,
        ):
            ctx = worker_context(settings, sessions, waker, services)
            async with running_worker(ctx, job_registry()):
                with startup_heap_frozen():
                    await stopped.wait()
    finally:
        await engine.dispose()
