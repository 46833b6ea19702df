"""Outgoing events' tables: who is subscribed (EventSubscriptions) and every event each one is
sent (EventDeliveries: the body as signed, the attempts, the outcome)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.core.db import utcnow


class DeliveryStatus(StrEnum):
    PENDING = "Pending"
    DELIVERED = "Delivered"
    FAILED = "Failed"


class EventSubscription(SQLModel, table=True):
    __tablename__ = "event_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    url: str = Field(max_length=2048)
    secret_encrypted: str = Field(max_length=4096)
    # Empty: every event type.
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    # Why the service turned it off (e.g. the receiver answered 410 Gone).
    inactive_reason: str | None = Field(default=None, max_length=1024)
    date_created: datetime = Field(default_factory=utcnow)


class EventDelivery(SQLModel, table=True):
    """One event for one subscription. `event_id` is the `webhook-id` header: the same on every
    attempt and every replay, so the receiver can drop what it already has."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        Index("ix_event_deliveries_subscription", "subscription_id", "id"),
        Index("ix_event_deliveries_status", "status", "id"),
        Index("ix_event_deliveries_ticket", "ticket_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="event_subscriptions.id", ondelete="CASCADE")
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=64)
    origin: str = Field(max_length=16)
    ticket_id: int | None = None
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    next_attempt_at: datetime | None = None
    date_created: datetime = Field(default_factory=utcnow)
    date_delivered: datetime | None = None
    # Retries run until this moment (EVENT_RETRY_HOURS after creation, or after a replay).
    retry_until: datetime = Field(default_factory=utcnow)
