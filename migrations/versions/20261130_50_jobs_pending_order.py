"""sync_jobs: a partial index of the jobs still to run per ordering key: a claim finds the first
of each key among them, whatever the number of jobs done (it used to visit every done job of
each waiting job's key: seconds per claim with a backlog of thousands)

Revision ID: 20261130_50
Revises: 20261130_40
Create Date: 2026-11-30 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261130_50"
down_revision: str | None = "20261130_40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.jobs.models.PENDING_SQL; a migration keeps its own copy of the value.
PENDING = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_index(
        "ix_sync_jobs_pending_order",
        "sync_jobs",
        ["ordering_key", "id"],
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_sync_jobs_pending_order", table_name="sync_jobs")
