"""The job outbox table: work for the workers, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.core.db import utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# Written out (not bound), so that the planners can use the partial index below.
PENDING_SQL = "status IN ('queued', 'running')"


class SyncJob(SQLModel, table=True):
    """An outbox row: work for the worker, written in the same transaction as the change."""

    __tablename__ = "sync_jobs"
    __table_args__ = (
        Index("ix_sync_jobs_ready", "status", "run_after"),
        Index("ix_sync_jobs_ordering", "ordering_key", "id"),
        # The jobs still to run, per ordering key: the first of each, whatever the number of
        # jobs done (`outbox.first_in_order`).
        Index(
            "ix_sync_jobs_pending_order",
            "ordering_key",
            "id",
            postgresql_where=text(PENDING_SQL),
            sqlite_where=text(PENDING_SQL),
        ),
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
