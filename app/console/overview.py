"""The Overview: per Jira instance, what needs attention (errors, failed jobs, no webhook for a
long while) at the top, its Health figures, and the last hour's deliveries per minute and
Jira → ticket latency drawn as bar charts (SVG made here: no script, nothing fetched)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.console.deps import DbDep, SignedInDep
from app.console.pages import PREFIX, render
from app.core.db import utcnow
from app.integration import instances
from app.integration.health import InstanceHealth, instance_health, minute_series

router = APIRouter(prefix=PREFIX, include_in_schema=False)
# An active instance that has heard nothing from Jira for this long may have lost its webhook.
QUIET_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Attention:
    message: str
    href: str


def needs_attention(
    instance_id: int, sync_active: bool, health: InstanceHealth, now: datetime
) -> list[Attention]:
    found: list[Attention] = []
    if health.failed_jobs:
        plural = "s" if health.failed_jobs != 1 else ""
        found.append(
            Attention(
                f"{health.failed_jobs} failed sync job{plural}: retry or discard them.",
                f"{PREFIX}/sync?status=Failed&instance={instance_id}",
            )
        )
    if health.errors_last_hour:
        plural = "s" if health.errors_last_hour != 1 else ""
        found.append(
            Attention(
                f"{health.errors_last_hour} sync error{plural} in the last hour.",
                f"{PREFIX}/sync?show=errors&instance={instance_id}",
            )
        )
    last = health.last_webhook_received
    if sync_active and (last is None or now - last > QUIET_AFTER):
        since = "ever" if last is None else f"since {last:%Y-%m-%d %H:%M} UTC"
        found.append(
            Attention(
                f"No webhook received from Jira {since}: check the webhook in Jira.",
                f"{PREFIX}/jira?instance={instance_id}",
            )
        )
    return found


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Chart:
    label: str
    width: int
    height: int
    bars: list[Bar]
    peak: str


def bar_chart(
    values: Sequence[int | None], *, label: str, unit: str, width: int = 600, height: int = 100
) -> Chart:
    """One bar per minute, oldest on the left; a missing value draws no bar."""
    peak = max((v for v in values if v is not None), default=0)
    slot = width / max(1, len(values))
    bars = []
    for index, value in enumerate(values):
        if not value:
            continue
        tall = height * value / peak
        ago = len(values) - 1 - index
        when = "this minute" if ago == 0 else f"{ago} min ago"
        bars.append(
            Bar(
                round(index * slot + 1, 2),
                round(height - tall, 2),
                round(max(1.0, slot - 2), 2),
                round(tall, 2),
                f"{when}: {value} {unit}",
            )
        )
    return Chart(label, width, height, bars, f"peak {peak} {unit}")


@router.get("")
async def overview(request: Request, db: DbDep, session: SignedInDep) -> Response:
    now = utcnow()
    rows = []
    everything: list[tuple[str, Attention]] = []
    for instance in await instances.list_instances(db):
        ident = instance.id or 0
        health = await instance_health(db, ident)
        series = await minute_series(db, ident)
        charts = [
            bar_chart(series.deliveries, label="Deliveries per minute", unit="deliveries"),
            bar_chart(series.latency_p50_ms, label="Jira → ticket latency (p50)", unit="ms"),
        ]
        attention = needs_attention(ident, instance.sync_active, health, now)
        rows.append((instance, health, charts))
        everything.extend((instance.name, item) for item in attention)
    return render(request, "overview.html", session, rows=rows, attention=everything)
