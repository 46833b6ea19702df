"""jira_instances: a NOTIFY with the instance's id when its webhook credentials change
(PostgreSQL), so every replica drops what it kept of them

Revision ID: 20261124_10
Revises: 20261123_40
Create Date: 2026-11-24 01:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261124_10"
down_revision: str | None = "20261123_40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel is app.integration.inbound.credentials.CHANNEL; a migration keeps its own copy.
CREATE_FUNCTION = """
CREATE FUNCTION jira_instances_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- TRUNCATE has no rows: an empty payload means "every instance".
    PERFORM pg_notify('jira_instances', CASE WHEN TG_OP = 'TRUNCATE' THEN '' ELSE OLD.id::text END);
    RETURN NULL;
END
$$
"""
CREATE_TRIGGERS = [
    """
    CREATE TRIGGER jira_instances_notify
    AFTER UPDATE OF sync_active, webhook_secret_encrypted OR DELETE ON jira_instances
    FOR EACH ROW EXECUTE FUNCTION jira_instances_notify()
    """,
    """
    CREATE TRIGGER jira_instances_notify_truncate AFTER TRUNCATE ON jira_instances
    FOR EACH STATEMENT EXECUTE FUNCTION jira_instances_notify()
    """,
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the inbox reads the instance on every delivery
    op.execute(CREATE_FUNCTION)
    for trigger in CREATE_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER jira_instances_notify_truncate ON jira_instances")
    op.execute("DROP TRIGGER jira_instances_notify ON jira_instances")
    op.execute("DROP FUNCTION jira_instances_notify()")
