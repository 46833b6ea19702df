"""The Overview: what needs attention, and the charts, as tables of cases; the page itself with
an instance's traffic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.console.overview import bar_chart, needs_attention
from app.core.db import utcnow
from app.inbox.models import WebhookDelivery
from app.integration.health import InstanceHealth, per_minute
from tests.console.conftest import console_client, signed_in_client

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def health(**changes: Any) -> InstanceHealth:
    values: dict[str, Any] = dict(
        jira_instance_id=1,
        last_webhook_received=NOW - timedelta(minutes=5),
        deliveries_last_hour=3,
        deliveries_last_24_hours=30,
        errors_last_hour=0,
        errors_last_24_hours=0,
        queue_depth=0,
        failed_jobs=0,
        latency_p50_ms=100,
        latency_p99_ms=300,
    )
    return InstanceHealth(**{**values, **changes})


@pytest.mark.parametrize(
    ("active", "changes", "expected"),
    [
        (True, {}, []),
        (True, {"failed_jobs": 2}, ["2 failed sync jobs: retry or discard them."]),
        (True, {"errors_last_hour": 1}, ["1 sync error in the last hour."]),
        (
            True,
            {"last_webhook_received": None},
            ["No webhook received from Jira ever: check the webhook in Jira."],
        ),
        (
            True,
            {"last_webhook_received": NOW - timedelta(hours=25)},
            [
                "No webhook received from Jira since 2026-11-29 11:00 UTC: "
                "check the webhook in Jira."
            ],
        ),
        (False, {"last_webhook_received": None}, []),  # not active: silence is expected
    ],
)
def test_what_needs_attention(active: bool, changes: dict[str, Any], expected: list[str]) -> None:
    found = needs_attention(1, active, health(**changes), NOW)
    assert [item.message for item in found] == expected


def test_failed_jobs_link_to_the_queue_filtered() -> None:
    (item,) = needs_attention(3, False, health(failed_jobs=1), NOW)
    assert item.href == "/console/sync?status=Failed&instance=3"


def test_events_bucketed_per_minute() -> None:
    events = [
        (NOW - timedelta(seconds=10), 0.2),
        (NOW - timedelta(seconds=50), None),
        (NOW - timedelta(minutes=2, seconds=1), 1.0),
        (NOW - timedelta(minutes=61), 5.0),  # older than the hour
        (NOW + timedelta(seconds=1), 5.0),  # the clock of another process, a little ahead
    ]
    counts, values = per_minute(events, NOW, minutes=3)
    assert counts == [1, 0, 2]
    assert values == [[1.0], [], [0.2]]


def test_a_bar_per_minute_scaled_to_the_peak() -> None:
    chart = bar_chart([2, None, 0, 4], label="Deliveries", unit="deliveries", width=40, height=10)
    assert [(bar.x, bar.height, bar.title) for bar in chart.bars] == [
        (1, 5.0, "3 min ago: 2 deliveries"),
        (31, 10.0, "this minute: 4 deliveries"),
    ]
    assert chart.peak == "peak 4 deliveries"


def test_no_traffic_draws_no_bar() -> None:
    assert bar_chart([None, 0], label="x", unit="ms").bars == []


@pytest.fixture
async def console(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with console_client(app) as client:
        await signed_in_client(client)
        yield client


async def test_the_page_shows_attention_and_charts(app: Any, console: httpx.AsyncClient) -> None:
    async with app.state.session_factory() as session:
        received = utcnow() - timedelta(minutes=1)
        session.add(
            WebhookDelivery(
                source="jira",
                delivery_id="d-1",
                jira_instance_id=1,
                event="jira:issue_updated",
                body="{}",
                received_at=received,
                processed_at=received + timedelta(milliseconds=250),
                outcome="applied",
            )
        )
        await session.commit()
    page = (await console.get("/console")).text
    assert "Needs attention" not in page  # the Default instance is not active
    assert "1 min ago: 1 deliveries" in page
    assert "1 min ago: 250 ms" in page
    assert 'role="img" aria-label="Deliveries per minute, last hour, peak 1 deliveries"' in page
