"""The CrmSyncLogs and CrmSyncErrors reports, read from `sync_logs`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.integration.models import LogStatus, SyncLog


@dataclass(frozen=True)
class ReportFilters:
    errors_only: bool = False
    jira_instance_id: int | None = None
    ticket_id: int | None = None
    since: datetime | None = None


async def sync_log_page(
    session: AsyncSession, filters: ReportFilters, page: int, size: int
) -> tuple[Sequence[SyncLog], int]:
    """Newest first."""
    query = select(SyncLog)
    if filters.errors_only:
        query = query.where(col(SyncLog.status) == LogStatus.ERROR)
    if filters.jira_instance_id is not None:
        query = query.where(col(SyncLog.jira_instance_id) == filters.jira_instance_id)
    if filters.ticket_id is not None:
        query = query.where(col(SyncLog.ticket_id) == filters.ticket_id)
    if filters.since is not None:
        query = query.where(col(SyncLog.date_created) >= filters.since)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(col(SyncLog.id).desc()).offset((page - 1) * size).limit(size)
    )
    return rows.all(), total
