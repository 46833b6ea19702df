"""Storing a delivery once: the first time its id is seen."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.inbox.models import WebhookDelivery


async def store_once(
    session: AsyncSession, *, source: str, delivery_id: str, event: str, body: str
) -> WebhookDelivery | None:
    """The stored delivery, or None when this source sent this id before (also when a
    concurrent request stores it first)."""
    seen = await session.scalar(
        select(col(WebhookDelivery.id)).where(
            col(WebhookDelivery.source) == source, col(WebhookDelivery.delivery_id) == delivery_id
        )
    )
    if seen is not None:
        return None
    delivery = WebhookDelivery(source=source, delivery_id=delivery_id, event=event, body=body)
    try:
        async with session.begin_nested():
            session.add(delivery)
            await session.flush()
    except IntegrityError:
        return None
    return delivery
