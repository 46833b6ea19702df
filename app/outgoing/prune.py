"""`maintenance.prune_event_deliveries`: finished deliveries (Delivered, Failed) are forgotten
after EVENT_RETENTION_DAYS; Pending ones never are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import col

from app.core.db import utcnow
from app.core.logging import get_logger
from app.jobs.context import WorkerContext
from app.jobs.kinds import Job, JobRegistry, PeriodicPayload
from app.outgoing.models import DeliveryStatus, EventDelivery

log = get_logger(__name__)


class PruneEventDeliveries(PeriodicPayload):
    kind = "maintenance.prune_event_deliveries"


async def prune_event_deliveries(ctx: WorkerContext[Any], _job: Job[PruneEventDeliveries]) -> None:
    cutoff = utcnow() - timedelta(days=ctx.settings.event_retention_days)
    async with ctx.transaction() as session:
        result = await session.execute(
            delete(EventDelivery).where(
                col(EventDelivery.status) != DeliveryStatus.PENDING,
                col(EventDelivery.date_created) < cutoff,
            )
        )
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.info("events.deliveries.pruned", removed=removed)


def register(registry: JobRegistry) -> None:
    registry.register_periodic(
        PruneEventDeliveries, prune_event_deliveries, lambda _settings: 6 * 3600.0
    )
