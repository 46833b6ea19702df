"""How one Jira instance's sync is doing: the last webhook received, deliveries and errors in
the last hour and day, the queue, and how long Jira's changes take to reach tickets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.inbox.models import WebhookDelivery
from app.integration.models import LogStatus, SyncLog
from app.integration.sync_queue import QueueFilters, QueueStatus, queue_page

HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)
# Deliveries whose changes reached tickets (an ignored or unlinked one says nothing of latency).
APPLIED_OUTCOMES = ("applied", "comment skipped")
# At most this many latencies are read for the percentiles (the most recent ones).
LATENCY_SAMPLE = 10_000


@dataclass(frozen=True)
class InstanceHealth:
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


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of `values` (any order); None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _as_ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


async def _count_deliveries(session: AsyncSession, instance_id: int, since: datetime) -> int:
    query = select(func.count()).where(
        col(WebhookDelivery.jira_instance_id) == instance_id,
        col(WebhookDelivery.received_at) >= since,
    )
    return int(await session.scalar(query) or 0)


async def _count_errors(session: AsyncSession, instance_id: int, since: datetime) -> int:
    query = select(func.count()).where(
        col(SyncLog.jira_instance_id) == instance_id,
        col(SyncLog.status) == LogStatus.ERROR,
        col(SyncLog.date_created) >= since,
    )
    return int(await session.scalar(query) or 0)


async def _latencies(session: AsyncSession, instance_id: int, since: datetime) -> list[float]:
    """Seconds from a delivery's arrival to its changes being on the tickets."""
    rows = await session.execute(
        select(col(WebhookDelivery.received_at), col(WebhookDelivery.processed_at))
        .where(
            col(WebhookDelivery.jira_instance_id) == instance_id,
            col(WebhookDelivery.received_at) >= since,
            col(WebhookDelivery.processed_at).is_not(None),
            col(WebhookDelivery.outcome).in_(APPLIED_OUTCOMES),
        )
        .order_by(col(WebhookDelivery.id).desc())
        .limit(LATENCY_SAMPLE)
    )
    return [
        max(0.0, (processed - received).total_seconds())
        for received, processed in rows
        if processed is not None
    ]


@dataclass(frozen=True)
class MinuteSeries:
    """The last hour, minute by minute (oldest first): deliveries received, and the median
    Jira → ticket latency (ms) of those applied (None when none was)."""

    deliveries: list[int]
    latency_p50_ms: list[int | None]


def per_minute(
    events: Sequence[tuple[datetime, float | None]], now: datetime, minutes: int = 60
) -> tuple[list[int], list[list[float]]]:
    """Events bucketed by the minute they fall in, the last `minutes` minutes up to `now`:
    how many per minute, and their values (None values are counted, not kept)."""
    counts = [0] * minutes
    values: list[list[float]] = [[] for _ in range(minutes)]
    for moment, value in events:
        age = (now - moment).total_seconds()
        if not 0 <= age < minutes * 60:
            continue
        bucket = minutes - 1 - int(age // 60)
        counts[bucket] += 1
        if value is not None:
            values[bucket].append(value)
    return counts, values


async def minute_series(session: AsyncSession, instance_id: int) -> MinuteSeries:
    now = utcnow()
    rows = await session.execute(
        select(
            col(WebhookDelivery.received_at),
            col(WebhookDelivery.processed_at),
            col(WebhookDelivery.outcome),
        )
        .where(
            col(WebhookDelivery.jira_instance_id) == instance_id,
            col(WebhookDelivery.received_at) >= now - HOUR,
        )
        .order_by(col(WebhookDelivery.id).desc())
        .limit(LATENCY_SAMPLE)
    )
    events = [
        (
            received,
            (processed - received).total_seconds()
            if processed is not None and outcome in APPLIED_OUTCOMES
            else None,
        )
        for received, processed, outcome in rows
    ]
    counts, latencies = per_minute(events, now)
    return MinuteSeries(counts, [_as_ms(percentile(minute, 0.5)) for minute in latencies])


async def instance_health(session: AsyncSession, instance_id: int) -> InstanceHealth:
    now = utcnow()
    last = await session.scalar(
        select(func.max(WebhookDelivery.received_at)).where(
            col(WebhookDelivery.jira_instance_id) == instance_id
        )
    )
    _, waiting = await queue_page(session, QueueFilters(jira_instance_id=instance_id), 1, 1)
    _, failed = await queue_page(
        session, QueueFilters(status=QueueStatus.FAILED, jira_instance_id=instance_id), 1, 1
    )
    latencies = await _latencies(session, instance_id, now - HOUR)
    return InstanceHealth(
        jira_instance_id=instance_id,
        last_webhook_received=last,
        deliveries_last_hour=await _count_deliveries(session, instance_id, now - HOUR),
        deliveries_last_24_hours=await _count_deliveries(session, instance_id, now - DAY),
        errors_last_hour=await _count_errors(session, instance_id, now - HOUR),
        errors_last_24_hours=await _count_errors(session, instance_id, now - DAY),
        queue_depth=waiting - failed,
        failed_jobs=failed,
        latency_p50_ms=_as_ms(percentile(latencies, 0.5)),
        latency_p99_ms=_as_ms(percentile(latencies, 0.99)),
    )
