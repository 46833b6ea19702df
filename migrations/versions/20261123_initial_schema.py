"""Initial schema: helpdesk, Jira links, sync outbox, logs and webhook deliveries

Revision ID: 20261123_01
Revises:
Create Date: 2026-11-23 19:39:45.025460
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_01"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_types")),
        sa.UniqueConstraint("name", name=op.f("uq_action_types_name")),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("field_type", sa.String(length=16), nullable=False),
        sa.Column("pick_list_values", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
        sa.UniqueConstraint("name", name=op.f("uq_custom_fields_name")),
    )
    op.create_table(
        "sync_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("ordering_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_jobs")),
    )
    with op.batch_alter_table("sync_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_sync_jobs_ordering", ["ordering_key", "id"], unique=False)
        batch_op.create_index("ix_sync_jobs_ready", ["status", "run_after"], unique=False)

    op.create_table(
        "ticket_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_types")),
        sa.UniqueConstraint("name", name=op.f("uq_ticket_types_name")),
    )
    op.create_table(
        "jira_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("host_name", sa.String(length=1024), nullable=False),
        sa.Column("user_name", sa.String(length=255), nullable=False),
        sa.Column("auth_method", sa.String(length=16), nullable=False),
        sa.Column("api_token_encrypted", sa.String(length=4096), nullable=True),
        sa.Column("webhook_secret_encrypted", sa.String(length=4096), nullable=True),
        sa.Column("default_project_key", sa.String(length=255), nullable=True),
        sa.Column("action_type_to_push_id", sa.Integer(), nullable=True),
        sa.Column("update_ticket_status", sa.Boolean(), nullable=False),
        sa.Column("sync_active", sa.Boolean(), nullable=False),
        sa.Column("always_use_default_project_key", sa.Boolean(), nullable=False),
        sa.Column("include_non_required_fields", sa.Boolean(), nullable=False),
        sa.Column("use_all_ticket_types", sa.Boolean(), nullable=False),
        sa.Column("allowed_ticket_type_ids", sa.JSON(), nullable=False),
        sa.Column("crm_property_field", sa.String(length=255), nullable=True),
        sa.Column("last_reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_type_to_push_id"],
            ["action_types.id"],
            name=op.f("fk_jira_instances_action_type_to_push_id_action_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jira_instances")),
        sa.UniqueConstraint("name", name=op.f("uq_jira_instances_name")),
    )
    op.create_table(
        "ticket_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_ticket_statuses_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_statuses")),
        sa.UniqueConstraint(
            "ticket_type_id", "name", name=op.f("uq_ticket_statuses_ticket_type_id_name")
        ),
    )
    with op.batch_alter_table("ticket_statuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_statuses_ticket_type_id"), ["ticket_type_id"], unique=False
        )
        batch_op.create_index(
            "uq_ticket_statuses_default_per_type",
            ["ticket_type_id"],
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )

    op.create_table(
        "jira_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.String(length=64), nullable=False),
        sa.Column("issue_key", sa.String(length=255), nullable=False),
        sa.Column("jira_updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_changelog_id", sa.BigInteger(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["jira_instances.id"],
            name=op.f("fk_jira_issues_instance_id_jira_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jira_issues")),
        sa.UniqueConstraint(
            "instance_id", "issue_id", name=op.f("uq_jira_issues_instance_id_issue_id")
        ),
    )
    with op.batch_alter_table("jira_issues", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jira_issues_instance_id"), ["instance_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_jira_issues_issue_key"), ["issue_key"], unique=False)

    op.create_table(
        "jira_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("mapping_type", sa.String(length=16), nullable=False),
        sa.Column("jira_field", sa.String(length=255), nullable=False),
        sa.Column("teamsupport_field", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["jira_instances.id"],
            name=op.f("fk_jira_mappings_instance_id_jira_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jira_mappings")),
        sa.UniqueConstraint(
            "instance_id",
            "mapping_type",
            "jira_field",
            name=op.f("uq_jira_mappings_instance_id_mapping_type_jira_field"),
        ),
    )
    with op.batch_alter_table("jira_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jira_mappings_instance_id"), ["instance_id"], unique=False
        )

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("jira_project_key", sa.String(length=255), nullable=True),
        sa.Column("jira_instance_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["jira_instance_id"],
            ["jira_instances.id"],
            name=op.f("fk_products_jira_instance_id_jira_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("name", name=op.f("uq_products_name")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_products_jira_instance_id"), ["jira_instance_id"], unique=False
        )

    op.create_table(
        "sync_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jira_instance_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("jira_key", sa.String(length=255), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["jira_instance_id"],
            ["jira_instances.id"],
            name=op.f("fk_sync_logs_jira_instance_id_jira_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_logs")),
    )
    with op.batch_alter_table("sync_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_logs_date_created"), ["date_created"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sync_logs_jira_instance_id"), ["jira_instance_id"], unique=False
        )
        batch_op.create_index(
            "ix_sync_logs_status_created", ["status", "date_created"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_logs_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("jira_instance_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["jira_instance_id"],
            ["jira_instances.id"],
            name=op.f("fk_webhook_deliveries_jira_instance_id_jira_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "source", "delivery_id", name=op.f("uq_webhook_deliveries_source_delivery_id")
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.String(length=255), nullable=False),
        sa.Column("jira_project_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_versions_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint(
            "product_id", "version_number", name=op.f("uq_versions_product_id_version_number")
        ),
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_versions_product_id"), ["product_id"], unique=False)

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("reported_version_id", sa.Integer(), nullable=True),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("jira_instance_id", sa.Integer(), nullable=True),
        sa.Column("jira_issue_ref", sa.Integer(), nullable=True),
        sa.Column("jira_sync_status", sa.String(length=16), nullable=False),
        sa.Column("jira_requested_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["jira_instance_id"],
            ["jira_instances.id"],
            name=op.f("fk_tickets_jira_instance_id_jira_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["jira_issue_ref"],
            ["jira_issues.id"],
            name=op.f("fk_tickets_jira_issue_ref_jira_issues"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_tickets_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["reported_version_id"],
            ["versions.id"],
            name=op.f("fk_tickets_reported_version_id_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["status_id"], ["ticket_statuses.id"], name=op.f("fk_tickets_status_id_ticket_statuses")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_tickets_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("external_id", name=op.f("uq_tickets_external_id")),
        sa.UniqueConstraint("ticket_number", name=op.f("uq_tickets_ticket_number")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tickets_date_modified"), ["date_modified"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tickets_jira_instance_id"), ["jira_instance_id"], unique=False
        )
        batch_op.create_index("ix_tickets_jira_issue", ["jira_issue_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_product_id"), ["product_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tickets_reported_version_id"), ["reported_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tickets_status_id"), ["status_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tickets_ticket_type_id"), ["ticket_type_id"], unique=False
        )

    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("action_type_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("creator_name", sa.String(length=255), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("jira_comment_id", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_type_id"],
            ["action_types.id"],
            name=op.f("fk_actions_action_type_id_action_types"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_actions_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
        sa.UniqueConstraint("external_id", name=op.f("uq_actions_external_id")),
        sa.UniqueConstraint(
            "ticket_id", "jira_comment_id", name=op.f("uq_actions_ticket_id_jira_comment_id")
        ),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_actions_action_type_id"), ["action_type_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_actions_jira_comment_id"), ["jira_comment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_actions_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "ticket_custom_values",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("custom_field_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["custom_field_id"],
            ["custom_fields.id"],
            name=op.f("fk_ticket_custom_values_custom_field_id_custom_fields"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_custom_values_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "ticket_id", "custom_field_id", name=op.f("pk_ticket_custom_values")
        ),
    )
    with op.batch_alter_table("ticket_custom_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_custom_values_custom_field_id"), ["custom_field_id"], unique=False
        )

    op.create_table(
        "ticket_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_history_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_history")),
    )
    with op.batch_alter_table("ticket_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_history_ticket_id"), ["ticket_id"], unique=False
        )

    op.bulk_insert(
        sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger)),
        [{"name": "ticket_number", "value": 0}],
    )
    op.bulk_insert(
        sa.table(
            "jira_instances",
            sa.column("name", sa.String),
            sa.column("host_name", sa.String),
            sa.column("user_name", sa.String),
            sa.column("auth_method", sa.String),
            sa.column("update_ticket_status", sa.Boolean),
            sa.column("sync_active", sa.Boolean),
            sa.column("always_use_default_project_key", sa.Boolean),
            sa.column("include_non_required_fields", sa.Boolean),
            sa.column("use_all_ticket_types", sa.Boolean),
            sa.column("allowed_ticket_type_ids", sa.JSON),
        ),
        [
            {
                "name": "Default",
                "host_name": "",
                "user_name": "",
                "auth_method": "Basic",
                "update_ticket_status": False,
                "sync_active": False,
                "always_use_default_project_key": False,
                "include_non_required_fields": False,
                "use_all_ticket_types": True,
                "allowed_ticket_type_ids": [],
            }
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_history_ticket_id"))

    op.drop_table("ticket_history")
    with op.batch_alter_table("ticket_custom_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_custom_values_custom_field_id"))

    op.drop_table("ticket_custom_values")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_actions_jira_comment_id"))
        batch_op.drop_index(batch_op.f("ix_actions_action_type_id"))

    op.drop_table("actions")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_ticket_type_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_status_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_reported_version_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_product_id"))
        batch_op.drop_index("ix_tickets_jira_issue")
        batch_op.drop_index(batch_op.f("ix_tickets_jira_instance_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_date_modified"))

    op.drop_table("tickets")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_versions_product_id"))

    op.drop_table("versions")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_received_at"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("sync_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_logs_ticket_id"))
        batch_op.drop_index("ix_sync_logs_status_created")
        batch_op.drop_index(batch_op.f("ix_sync_logs_jira_instance_id"))
        batch_op.drop_index(batch_op.f("ix_sync_logs_date_created"))

    op.drop_table("sync_logs")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_jira_instance_id"))

    op.drop_table("products")
    with op.batch_alter_table("jira_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jira_mappings_instance_id"))

    op.drop_table("jira_mappings")
    with op.batch_alter_table("jira_issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jira_issues_issue_key"))
        batch_op.drop_index(batch_op.f("ix_jira_issues_instance_id"))

    op.drop_table("jira_issues")
    with op.batch_alter_table("ticket_statuses", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ticket_statuses_default_per_type",
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )
        batch_op.drop_index(batch_op.f("ix_ticket_statuses_ticket_type_id"))

    op.drop_table("ticket_statuses")
    op.drop_table("jira_instances")
    op.drop_table("ticket_types")
    with op.batch_alter_table("sync_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_jobs_ready")
        batch_op.drop_index("ix_sync_jobs_ordering")

    op.drop_table("sync_jobs")
    op.drop_table("custom_fields")
    op.drop_table("counters")
    op.drop_table("action_types")
