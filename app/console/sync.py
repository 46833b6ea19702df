"""The Sync screen: the Queue (queued, retrying with next try and last error, failed with Retry
and Discard), the outgoing Event Deliveries to the helpdesk (with Retry: the same event, the
same `webhook-id`), and the CRM Sync Errors and CRM Sync Logs reports with their filters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.console.cookies import ConsoleSession
from app.console.deps import DbDep, FormDep, IdPath, SettingsDep, SignedInDep
from app.console.pages import PREFIX, redirect, render
from app.core.errors import ApiError
from app.core.wire import MAX_ID
from app.integration import instances
from app.integration.reports import ReportFilters, sync_log_page
from app.integration.sync_queue import (
    QueueFilters,
    QueueStatus,
    discard_job,
    queue_page,
    retry_job,
)
from app.outgoing.deliveries import (
    DeliveryFilters,
    get_delivery,
    list_deliveries,
    retry_delivery,
)
from app.outgoing.models import EventSubscription

router = APIRouter(prefix=f"{PREFIX}/sync", include_in_schema=False)
ACTOR = "Console"
PAGE_SIZE = 50
NOTICES = {
    "retried": "Queued to run again.",
    "discarded": "Discarded.",
    "replayed": "The event is sent again.",
}
Id = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("")
async def sync_screen(
    request: Request,
    db: DbDep,
    session: SignedInDep,
    status: Annotated[QueueStatus | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    ticket: Id = None,
    instance: Id = None,
    show: Annotated[str, Query(pattern="^(errors|logs)$")] = "errors",
    notice: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    filters = QueueFilters(status, kind or None, ticket, instance)
    return await _screen(request, db, session, filters, show, NOTICES.get(notice or ""))


async def _screen(
    request: Request,
    db: AsyncSession,
    session: ConsoleSession,
    filters: QueueFilters,
    show: str = "errors",
    notice: str | None = None,
    problem: str | None = None,
) -> Response:
    jobs, total = await queue_page(db, filters, 1, PAGE_SIZE)
    report = ReportFilters(show == "errors", filters.jira_instance_id, filters.ticket_id)
    logs, log_total = await sync_log_page(db, report, 1, PAGE_SIZE)
    deliveries, delivery_total = await list_deliveries(
        db, DeliveryFilters(ticket_id=filters.ticket_id), 1, PAGE_SIZE
    )
    subscriptions = (await db.scalars(select(EventSubscription))).all()
    return render(
        request,
        "sync.html",
        session,
        409 if problem else 200,
        jobs=jobs,
        total=total,
        logs=logs,
        log_total=log_total,
        deliveries=deliveries,
        delivery_total=delivery_total,
        subscriptions={one.id: one.name for one in subscriptions},
        show=show,
        filters={
            "status": filters.status or "",
            "kind": filters.kind or "",
            "ticket": filters.ticket_id,
            "instance": filters.jira_instance_id,
        },
        statuses=list(QueueStatus),
        instances={i.id: i.name for i in await instances.list_instances(db)},
        notice=notice,
        problem=problem,
    )


async def _act(
    request: Request,
    db: AsyncSession,
    session: ConsoleSession,
    action: Callable[[], Awaitable[object]],
    notice: str,
) -> Response:
    """Do what a button asks; a refusal is shown on the screen, in the API's words."""
    try:
        await action()
    except ApiError as exc:
        await db.rollback()
        return await _screen(request, db, session, QueueFilters(), problem=exc.message)
    return redirect(f"{PREFIX}/sync?notice={notice}")


@router.post("/{job_id}/retry")
async def retry(
    request: Request, job_id: IdPath, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    return await _act(request, db, session, lambda: retry_job(db, job_id, ACTOR), "retried")


@router.post("/{job_id}/discard")
async def discard(
    request: Request, job_id: IdPath, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    return await _act(request, db, session, lambda: discard_job(db, job_id, ACTOR), "discarded")


@router.post("/events/{delivery_id}/retry")
async def replay(
    request: Request,
    delivery_id: IdPath,
    db: DbDep,
    settings: SettingsDep,
    session: SignedInDep,
    form: FormDep,
) -> Response:
    async def send_again() -> None:
        await retry_delivery(db, await get_delivery(db, delivery_id), settings)

    return await _act(request, db, session, send_again, "replayed")
