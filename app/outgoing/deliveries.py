"""The delivery log (`GET /EventDeliveries`), a replay (`POST /EventDeliveries/{ID}/Retry`:
the same event, the same `webhook-id`), and a subscription's Test (a `ping`, answered in plain
words)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.errors import Conflict, NotFound
from app.core.security import SecretBox
from app.core.settings import Settings
from app.core.wire import MAX_ID
from app.jobs import outbox as jobs
from app.outgoing.emit import delivery_job, event_body, new_event_id
from app.outgoing.models import DeliveryStatus, EventDelivery, EventSubscription
from app.outgoing.rules import PING, Verdict, describe, judge
from app.outgoing.schemas import DeliveryOut, SubscriptionTestOut
from app.outgoing.sender import EventSender


@dataclass(frozen=True)
class DeliveryFilters:
    subscription_id: int | None = None
    status: DeliveryStatus | None = None
    ticket_id: int | None = None
    since: datetime | None = None


async def list_deliveries(
    session: AsyncSession, filters: DeliveryFilters, page: int, size: int
) -> tuple[Sequence[EventDelivery], int]:
    """Newest first, and how many match in all."""
    query = select(EventDelivery)
    if filters.subscription_id is not None:
        query = query.where(col(EventDelivery.subscription_id) == filters.subscription_id)
    if filters.status is not None:
        query = query.where(col(EventDelivery.status) == filters.status.value)
    if filters.ticket_id is not None:
        query = query.where(col(EventDelivery.ticket_id) == filters.ticket_id)
    if filters.since is not None:
        query = query.where(col(EventDelivery.date_created) >= filters.since)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(col(EventDelivery.id).desc()).offset((page - 1) * size).limit(size)
    )
    return rows.all(), total


async def get_delivery(session: AsyncSession, delivery_id: int) -> EventDelivery:
    found = await session.get(EventDelivery, delivery_id) if 0 < delivery_id <= MAX_ID else None
    if found is None:
        raise NotFound(f"EventDelivery {delivery_id} does not exist.")
    return found


async def retry_delivery(
    session: AsyncSession, delivery: EventDelivery, settings: Settings
) -> EventDelivery:
    """Send a delivery again (same body, same `webhook-id`), with a fresh EVENT_RETRY_HOURS."""
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict(f"EventDelivery {delivery.id} is still Pending; it is being tried.")
    subscription = await session.get(EventSubscription, delivery.subscription_id)
    if subscription is None or not subscription.active:
        raise Conflict(
            f"EventSubscription {delivery.subscription_id} is not active; set Active to true "
            "before replaying its deliveries."
        )
    now = utcnow()
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.retry_until = now + timedelta(hours=settings.event_retry_hours)
    session.add(delivery)
    await session.flush()
    await jobs.enqueue(session, delivery_job(delivery, settings.event_subscription_concurrency))
    return delivery


def delivery_answer(delivery: EventDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery, from_attributes=True)


async def ping(
    subscription: EventSubscription, secrets: SecretBox, sender: EventSender, timeout: float
) -> SubscriptionTestOut:
    """Send a `ping` now (not through the outbox: an admin is waiting) and say what came back."""
    event_id = new_event_id()
    body = event_body(
        PING,
        {"SubscriptionID": subscription.id, "Message": "A test event from helpdesk-jira-sync."},
    )
    secret = secrets.decrypt(subscription.secret_encrypted)
    answer = await sender.send(subscription.url, secret, event_id, body, timeout=timeout)
    verdict = judge(answer)
    message = describe(answer)
    if answer.status_code is None and not answer.refused:
        message = f"No answer from {subscription.url}: {answer.error}"
    return SubscriptionTestOut(
        success=verdict is Verdict.DELIVERED,
        message=message,
        status_code=answer.status_code,
        event_id=event_id,
    )
