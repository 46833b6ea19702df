"""sync_jobs: no NOTIFY trigger. PostgreSQL commits the transactions that NOTIFY one at a time
(a database-wide lock held through the commit's flush), so every delivery's insert waited on
the others; a process now notifies after its commits, from a connection of its own
(`app/core/notify.py`)

Revision ID: 20261130_60
Revises: 20261130_50
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261130_60"
down_revision: str | None = "20261130_50"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As migration 20261130_40 left it (a migration keeps its own copy).
NAMING_KINDS = """
CREATE FUNCTION sync_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'sync_jobs', coalesce((SELECT string_agg(DISTINCT kind, ',') FROM new_jobs), '')
    );
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite never had it
    op.execute("DROP TRIGGER sync_jobs_notify ON sync_jobs")
    op.execute("DROP FUNCTION sync_jobs_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(NAMING_KINDS)
    op.execute(
        "CREATE TRIGGER sync_jobs_notify AFTER INSERT ON sync_jobs "
        "REFERENCING NEW TABLE AS new_jobs "
        "FOR EACH STATEMENT EXECUTE FUNCTION sync_jobs_notify()"
    )
