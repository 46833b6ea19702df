"""Stored webhook deliveries are forgotten after the retention time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlmodel import col

from app.core.db import utcnow
from app.inbox.models import WebhookDelivery
from app.integration.inbound.prune import prune_deliveries
from app.integration.job_kinds import PruneDeliveries
from app.jobs.kinds import Job
from tests.support.inbound import deliver, issue_updated, item
from tests.support.world import ISSUE_ID, linked_world

STATUS_CHANGE = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "In Progress")])


class TestPrune:
    async def test_old_deliveries_are_pruned_recent_kept(
        self, http: httpx.AsyncClient, session: Any, service: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        await deliver(http, instance_id, STATUS_CHANGE, identifier="old")
        await deliver(http, instance_id, STATUS_CHANGE, identifier="new")
        await session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.delivery_id) == "old")
            .values(received_at=utcnow() - timedelta(days=8))
        )
        await session.commit()
        await prune_deliveries(service.state.worker_context, Job(0, 1, utcnow(), PruneDeliveries()))
        session.expire_all()
        left = list(await session.scalars(select(col(WebhookDelivery.delivery_id))))
        await session.commit()
        assert left == ["new"]
