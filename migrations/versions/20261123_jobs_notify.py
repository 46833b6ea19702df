"""sync_jobs: a NOTIFY on every insert (PostgreSQL), so enqueueing a job costs no extra statement

Revision ID: 20261123_40
Revises: 20261123_30
Create Date: 2026-11-23 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261123_40"
down_revision: str | None = "20261123_30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel is app.jobs.outbox.NOTIFY_CHANNEL; a migration keeps its own copy of the value.
# Statement-level: one notification per inserting statement, and PostgreSQL folds identical
# notifications of one transaction into one, delivered at commit.
CREATE_FUNCTION = """
CREATE FUNCTION sync_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sync_jobs', '');
    RETURN NULL;
END
$$
"""
CREATE_TRIGGER = """
CREATE TRIGGER sync_jobs_notify AFTER INSERT ON sync_jobs
FOR EACH STATEMENT EXECUTE FUNCTION sync_jobs_notify()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: workers share the process and are woken in memory
    op.execute(CREATE_FUNCTION)
    op.execute(CREATE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER sync_jobs_notify ON sync_jobs")
    op.execute("DROP FUNCTION sync_jobs_notify()")
