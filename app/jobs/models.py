"""The job outbox table: work for the workers, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.core.db import utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


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
