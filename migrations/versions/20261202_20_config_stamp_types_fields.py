"""config_stamp: every write to the ticket types and the custom fields renews the stamp too, so
that ticket answers (an outgoing event's, before and after each change from Jira) take them
from what the process kept (`app/core/config_cache.py`)

Revision ID: 20261202_20
Revises: 20261202_10
Create Date: 2026-12-02 17:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261202_20"
down_revision: str | None = "20261202_10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A migration keeps its own copy of the names (app/core/config_cache.STAMPED_TABLES).
STAMPED_TABLES = ("ticket_types", "custom_fields")
# The trigger bodies of 20261202_10: config_stamp_renew() on PostgreSQL, this on SQLite.
SQLITE_RENEW = "UPDATE config_stamp SET stamp = lower(hex(randomblob(16)))"
CHANGES = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in STAMPED_TABLES:
        if postgres:
            op.execute(
                f"CREATE TRIGGER {table}_config_stamp "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION config_stamp_renew()"
            )
            continue
        for change in CHANGES:
            op.execute(
                f"CREATE TRIGGER {table}_config_stamp_{change.lower()} "
                f"AFTER {change} ON {table} BEGIN {SQLITE_RENEW}; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in STAMPED_TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER {table}_config_stamp ON {table}")
            continue
        for change in CHANGES:
            op.execute(f"DROP TRIGGER {table}_config_stamp_{change.lower()}")
