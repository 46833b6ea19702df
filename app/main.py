"""The FastAPI application: routers, middleware, error handlers and the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.engine import make_url

from app.api.errors import install_error_handlers
from app.api.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    RetryLostRacesMiddleware,
)
from app.api.openapi import build_openapi
from app.api.router import include_routes
from app.console.pages import ConsoleHeadersMiddleware
from app.console.routes import include_console
from app.console.throttle import SignInThrottle
from app.core.db import create_engine, is_sqlite_url
from app.core.foreground import Foreground
from app.core.heap import startup_heap_frozen
from app.core.logging import configure_logging, get_logger
from app.core.migrations import upgrade_to_head
from app.core.settings import Settings, get_settings
from app.integration.inbound.inbox_postgres import PostgresInboxPool
from app.jobs.runner import running_worker
from app.jobs.wakeup import Waker, notifying_other_processes
from app.wiring import app_services, job_registry, session_factory, worker_context

log = get_logger(__name__)


def _ensure_sqlite_directory(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings or get_settings()
    app.state.settings = settings
    configure_logging(settings.log_level, settings.log_format)
    if is_sqlite_url(settings.database_url):
        _ensure_sqlite_directory(settings.database_url)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.pool_size,
        max_overflow=settings.db_max_overflow,
    )
    if is_sqlite_url(settings.database_url):
        await upgrade_to_head(engine)  # the embedded database migrates itself
    app.state.engine = engine
    app.state.session_factory = session_factory(engine, settings)
    app.state.waker = Waker()
    app.state.console_throttle = SignInThrottle()
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            notifying_other_processes(app.state.waker, settings.database_url)
        )
        app.state.webhook_inbox = None
        if not is_sqlite_url(settings.database_url):
            inbox = await PostgresInboxPool.open(
                settings.database_url, settings.inbox_pool_size, app.state.waker
            )
            stack.push_async_callback(inbox.close)
            app.state.webhook_inbox = inbox
        app.state.services = await stack.enter_async_context(
            app_services(
                settings,
                app.state.jira_transport,
                app.state.event_transport,
                app.state.session_factory,
            )
        )
        app.state.worker_context = worker_context(
            settings, app.state.session_factory, app.state.waker, app.state.services
        )
        if settings.run_worker:
            await stack.enter_async_context(
                running_worker(
                    app.state.worker_context, job_registry(), app.state.foreground.give_way
                )
            )
        stack.enter_context(startup_heap_frozen())
        log.info(
            "app.started",
            database=make_url(settings.database_url).get_backend_name(),
            worker=settings.run_worker,
        )
        try:
            yield
        finally:
            log.info("app.stopping")
    await engine.dispose()


NO_OPENTELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def create_app(
    settings: Settings | None = None,
    jira_transport: httpx.AsyncBaseTransport | None = None,
    event_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app; tests pass settings and may route Jira calls to an in-process simulator (and
    outgoing events to an in-process receiver)."""
    app = FastAPI(
        title="Helpdesk ↔ Jira sync",
        version="0.1.0",
        description="Links helpdesk tickets to Jira issues and keeps them in step in real time.",
        lifespan=lifespan,
        # The service reports through its Prometheus metrics and JSON logs; FastAPI's own
        # OpenTelemetry hooks would ask for providers on every request with none to report to.
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.settings = settings
    app.state.jira_transport = jira_transport
    app.state.event_transport = event_transport
    app.state.foreground = Foreground()  # requests under way; the in-process worker gives way
    install_error_handlers(app)
    app.add_middleware(RetryLostRacesMiddleware)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(ConsoleHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)
    include_routes(app)
    include_console(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


app = create_app()
