"""sync_jobs: the NOTIFY on insert names the kinds inserted (comma-separated), so that a worker
process wakes only the lanes that take them

Revision ID: 20261130_40
Revises: 20261130_30
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261130_40"
down_revision: str | None = "20261130_30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Still one notification per inserting statement: the statement's new rows are its transition
# table. The channel is app.jobs.outbox.NOTIFY_CHANNEL; a migration keeps its own copy.
NAMING_KINDS = """
CREATE OR REPLACE FUNCTION sync_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'sync_jobs', coalesce((SELECT string_agg(DISTINCT kind, ',') FROM new_jobs), '')
    );
    RETURN NULL;
END
$$
"""
NAMING_NONE = """
CREATE OR REPLACE FUNCTION sync_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sync_jobs', '');
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: workers share the process and are woken in memory
    op.execute("DROP TRIGGER sync_jobs_notify ON sync_jobs")
    op.execute(NAMING_KINDS)
    op.execute(
        "CREATE TRIGGER sync_jobs_notify AFTER INSERT ON sync_jobs "
        "REFERENCING NEW TABLE AS new_jobs "
        "FOR EACH STATEMENT EXECUTE FUNCTION sync_jobs_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER sync_jobs_notify ON sync_jobs")
    op.execute(NAMING_NONE)
    op.execute(
        "CREATE TRIGGER sync_jobs_notify AFTER INSERT ON sync_jobs "
        "FOR EACH STATEMENT EXECUTE FUNCTION sync_jobs_notify()"
    )
