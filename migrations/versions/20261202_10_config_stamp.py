"""config_stamp: a random stamp that every write to the configuration an applied delivery asks
for (ticket statuses, event subscriptions) renews, by triggers, so that a process may keep that
configuration between transactions while the stamp it reads is the same
(`app/core/config_cache.py`)

Revision ID: 20261202_10
Revises: 20261201_10
Create Date: 2026-12-02 14:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_10"
down_revision: str | None = "20261201_10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A migration keeps its own copy of the names (app/core/config_cache.STAMPED_TABLES).
STAMPED_TABLES = ("ticket_statuses", "event_subscriptions")
POSTGRES_RENEW = """
CREATE FUNCTION config_stamp_renew() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_stamp SET stamp = md5(random()::text || clock_timestamp()::text);
    RETURN NULL;
END
$$
"""
SQLITE_RENEW = "UPDATE config_stamp SET stamp = lower(hex(randomblob(16)))"


def upgrade() -> None:
    stamp = op.create_table(
        "config_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_stamp")),
    )
    op.bulk_insert(stamp, [{"id": 1, "stamp": uuid.uuid4().hex}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_RENEW)
        for table in STAMPED_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_config_stamp "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION config_stamp_renew()"
            )
        return
    for table in STAMPED_TABLES:
        for change in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_config_stamp_{change.lower()} "
                f"AFTER {change} ON {table} BEGIN {SQLITE_RENEW}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in STAMPED_TABLES:
            op.execute(f"DROP TRIGGER {table}_config_stamp ON {table}")
        op.execute("DROP FUNCTION config_stamp_renew()")
    else:
        for table in STAMPED_TABLES:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_config_stamp_{change}")
    op.drop_table("config_stamp")
