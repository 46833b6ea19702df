"""Received deliveries (Jira's webhooks, the external helpdesk's events): each stored once, by
the sender's delivery id, before it is answered, so a repeat is recognised and nothing is lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import utcnow


class WebhookDelivery(SQLModel, table=True):
    """A received webhook delivery, stored before it is acknowledged; de-duplicated by its id."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    delivery_id: str = Field(max_length=255)
    jira_instance_id: int | None = Field(default=None, foreign_key="jira_instances.id")
    event: str = Field(default="", max_length=128)
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, index=True)
    processed_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=32)
