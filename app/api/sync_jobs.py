"""Routers for the sync queue (`SyncJobs`: list, Retry, discard) and an instance's Health."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.api.deps import ActorDep, FormatDep, IdPath, SessionDep, SettingsDep
from app.api.responses import formatted
from app.core.wire import MAX_ID, ApiModel
from app.integration import instances
from app.integration.health import instance_health
from app.integration.sync_queue import (
    QueuedJob,
    QueueFilters,
    QueueStatus,
    discard_job,
    queue_page,
    retry_job,
)

router = APIRouter(tags=["SyncJobs"])
NO_NUL = r"^[^\x00]*$"
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found"},
    409: {"description": "The job is not Failed"},
}


class SyncJobOut(ApiModel):
    id: int
    kind: str
    status: QueueStatus
    ticket_id: int | None
    jira_instance_id: int | None
    attempts: int
    last_error: str | None
    next_try: datetime | None
    date_created: datetime


class HealthOut(ApiModel):
    jira_instance_id: int
    last_webhook_received: datetime | None
    deliveries_last_hour: int
    deliveries_last_24_hours: int
    errors_last_hour: int
    errors_last_24_hours: int
    queue_depth: int
    failed_jobs: int
    latency_p50_ms: int | None
    latency_p99_ms: int | None


def _answer(job: QueuedJob) -> dict[str, Any]:
    return SyncJobOut.model_validate(asdict(job)).model_dump(mode="json", by_alias=True)


@router.get("/SyncJobs", response_model=dict[str, list[SyncJobOut]])
async def list_sync_jobs(
    session: SessionDep,
    settings: SettingsDep,
    fmt: FormatDep,
    status: Annotated[QueueStatus | None, Query(alias="Status")] = None,
    kind: Annotated[str | None, Query(alias="Kind", max_length=64, pattern=NO_NUL)] = None,
    ticket_id: Annotated[int | None, Query(alias="TicketID", ge=1, le=MAX_ID)] = None,
    jira_instance_id: Annotated[int | None, Query(alias="JiraInstanceID", ge=1, le=MAX_ID)] = None,
    page_number: Annotated[int, Query(alias="PageNumber", ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int | None, Query(alias="PageSize", ge=1, le=MAX_ID)] = None,
) -> Response:
    """The jobs still to run, retrying or failed, oldest first."""
    size = min(page_size or settings.page_size_default, settings.page_size_max)
    filters = QueueFilters(status, kind, ticket_id, jira_instance_id)
    jobs, total = await queue_page(session, filters, page_number, size)
    return formatted(
        {"SyncJobs": [_answer(job) for job in jobs]},
        fmt,
        headers={"X-Total-Count": str(total), "X-Page-Size": str(size)},
    )


@router.post("/SyncJobs/{ID}/Retry", response_model=dict[str, SyncJobOut], responses=ERRORS)
async def retry_sync_job(
    ID: IdPath, session: SessionDep, actor: ActorDep, fmt: FormatDep
) -> Response:
    """A Failed job runs again (its attempts start over); a link in Error is Pending again."""
    return formatted({"SyncJob": _answer(await retry_job(session, ID, actor))}, fmt)


@router.delete("/SyncJobs/{ID}", status_code=204, responses=ERRORS)
async def discard_sync_job(ID: IdPath, session: SessionDep, actor: ActorDep) -> Response:
    """Discard a Failed job (its ticket's History says so)."""
    await discard_job(session, ID, actor)
    return Response(status_code=204)


@router.get(
    "/JiraInstances/{ID}/Health",
    response_model=dict[str, HealthOut],
    responses={404: {"description": "Not found"}},
    tags=["JiraInstances"],
)
async def jira_instance_health(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    """Last webhook, deliveries and errors (last hour, 24 h), the queue, Jira → ticket latency."""
    await instances.get_instance(session, ID)
    health = await instance_health(session, ID)
    answer = HealthOut.model_validate(asdict(health)).model_dump(mode="json", by_alias=True)
    return formatted({"Health": answer}, fmt)
