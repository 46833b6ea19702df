"""Sync bookkeeping: the job outbox, sync logs and received webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Direction(StrEnum):
    TO_JIRA = "ToJira"
    FROM_JIRA = "FromJira"


class LogStatus(StrEnum):
    OK = "Ok"
    ERROR = "Error"


class SyncJob(SQLModel, table=True):
    """An outbox row: work for the worker, written in the same transaction as the change."""

    __tablename__ = "sync_jobs"
    __table_args__ = (
        Index("ix_sync_jobs_ready", "status", "run_after"),
        Index("ix_sync_jobs_ordering", "ordering_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Jobs sharing an ordering key run one at a time, oldest first (e.g. "ticket:42").
    ordering_key: str | None = Field(default=None, max_length=255)
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    attempts: int = 0
    run_after: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    locked_by: str | None = Field(default=None, max_length=255)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SyncLog(SQLModel, table=True):
    """One line per sync operation; the ones with status Error make the CrmSyncErrors report."""

    __tablename__ = "sync_logs"
    __table_args__ = (Index("ix_sync_logs_status_created", "status", "date_created"),)

    id: int | None = Field(default=None, primary_key=True)
    jira_instance_id: int | None = Field(default=None, foreign_key="jira_instances.id", index=True)
    ticket_id: int | None = Field(default=None, index=True)
    jira_key: str | None = Field(default=None, max_length=255)
    direction: str = Field(max_length=16)
    event: str = Field(max_length=64)
    status: str = Field(max_length=16)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    date_created: datetime = Field(default_factory=utcnow, index=True)


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
