"""Finished deliveries are forgotten after EVENT_RETENTION_DAYS; pending ones never."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.core.db import utcnow
from app.jobs.kinds import Job
from app.outgoing.models import EventDelivery, EventSubscription
from app.outgoing.prune import PruneEventDeliveries, prune_event_deliveries


async def test_old_finished_deliveries_go_pending_and_recent_ones_stay(
    events_app: Any, session: Any
) -> None:
    subscription = EventSubscription(name="x", url="http://r.test/", secret_encrypted="-")
    session.add(subscription)
    await session.flush()
    old = utcnow() - timedelta(days=31)
    for name, status, created in [
        ("old delivered", "Delivered", old),
        ("old failed", "Failed", old),
        ("old pending", "Pending", old),
        ("new delivered", "Delivered", utcnow()),
    ]:
        session.add(
            EventDelivery(
                subscription_id=subscription.id or 0,
                event_id=name,
                event_type="ticket.updated",
                origin="api",
                body="{}",
                status=status,
            )
        )
        await session.flush()
        await session.execute(
            update(EventDelivery).where(EventDelivery.event_id == name).values(date_created=created)
        )
    await session.commit()
    ctx = events_app.state.worker_context
    await prune_event_deliveries(ctx, Job(0, 1, utcnow(), PruneEventDeliveries()))
    session.expire_all()
    left = sorted(await session.scalars(select(EventDelivery.event_id)))
    await session.commit()
    assert left == ["new delivered", "old pending"]
