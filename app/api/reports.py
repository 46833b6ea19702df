"""Reports: CrmSyncLogs (every sync operation) and CrmSyncErrors (the failed ones)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api.deps import FormatDep, SessionDep, SettingsDep
from app.api.formats import Format
from app.api.responses import formatted
from app.core.settings import Settings
from app.core.wire import MAX_ID, ApiModel, IsoDateTime
from app.integration.reports import ReportFilters, sync_log_page

router = APIRouter(tags=["Reports"])


class SyncLogOut(ApiModel):
    id: int
    jira_instance_id: int | None
    ticket_id: int | None
    jira_key: str | None
    direction: str
    event: str
    status: str
    message: str
    date_created: datetime


@dataclass
class ReportQuery:
    """The filters and paging both reports take."""

    jira_instance_id: Annotated[int | None, Query(alias="JiraInstanceID", ge=0, le=MAX_ID)] = None
    ticket_id: Annotated[int | None, Query(alias="TicketID", ge=0, le=MAX_ID)] = None
    since: Annotated[IsoDateTime | None, Query(alias="Since")] = None
    page_number: Annotated[int, Query(alias="PageNumber", ge=1, le=1_000_000)] = 1
    page_size: Annotated[int | None, Query(alias="PageSize", ge=1)] = None


ReportQueryDep = Annotated[ReportQuery, Depends()]


async def _report(
    name: str,
    errors_only: bool,
    query: ReportQuery,
    session: SessionDep,
    settings: Settings,
    fmt: Format,
) -> Response:
    size = min(query.page_size or settings.page_size_default, settings.page_size_max)
    filters = ReportFilters(errors_only, query.jira_instance_id, query.ticket_id, query.since)
    rows, total = await sync_log_page(session, filters, query.page_number, size)
    items = [
        SyncLogOut.model_validate(row, from_attributes=True).model_dump(mode="json", by_alias=True)
        for row in rows
    ]
    return formatted(
        {name: items}, fmt, headers={"X-Total-Count": str(total), "X-Page-Size": str(size)}
    )


@router.get("/Reports/CrmSyncLogs", response_model=dict[str, list[SyncLogOut]])
async def crm_sync_logs(
    query: ReportQueryDep, session: SessionDep, settings: SettingsDep, fmt: FormatDep
) -> Response:
    return await _report("CrmSyncLogs", False, query, session, settings, fmt)


@router.get("/Reports/CrmSyncErrors", response_model=dict[str, list[SyncLogOut]])
async def crm_sync_errors(
    query: ReportQueryDep, session: SessionDep, settings: SettingsDep, fmt: FormatDep
) -> Response:
    return await _report("CrmSyncErrors", True, query, session, settings, fmt)
