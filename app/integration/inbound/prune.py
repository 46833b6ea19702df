"""`maintenance.prune_webhook_deliveries`: stored webhook deliveries are forgotten after the
retention time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from app.core.db import utcnow
from app.core.logging import get_logger
from app.inbox.models import WebhookDelivery
from app.integration.job_kinds import PruneDeliveries
from app.integration.services import JobContext
from app.jobs.kinds import Job, JobRegistry

log = get_logger(__name__)

MIN_DELIVERY_RETENTION_DAYS = 7


async def prune_deliveries(ctx: JobContext, _job: Job[PruneDeliveries]) -> None:
    """Periodic: forget deliveries older than the retention (at least 7 days, so Jira's retries
    and duplicates within that time are still recognised)."""
    days = max(ctx.settings.webhook_retention_days, MIN_DELIVERY_RETENTION_DAYS)
    cutoff = utcnow() - timedelta(days=days)
    async with ctx.transaction() as session:
        result = await session.execute(
            delete(WebhookDelivery).where(col(WebhookDelivery.received_at) < cutoff)
        )
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.info("jira.webhook.pruned", removed=removed)


def register(registry: JobRegistry) -> None:
    registry.register_periodic(PruneDeliveries, prune_deliveries, lambda _s: 6 * 3600.0)
