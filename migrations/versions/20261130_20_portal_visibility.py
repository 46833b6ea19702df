"""actions and action_types: `is_visible_on_portal` (TeamSupport's IsVisibleOnPortal): an action
not visible on the portal is pushed to Jira as an internal comment; an action type gives the
default of its actions

Revision ID: 20261130_20
Revises: 20261130_11
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261130_20"
down_revision: str | None = "20261130_11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("action_types", "actions")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "is_visible_on_portal",
                    sa.Boolean(),
                    nullable=False,
                    server_default=sa.false(),
                )
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("is_visible_on_portal")
    # On SQLite the batch copies action_types, and cannot carry its expression index along.
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(
            "uq_action_types_name_folded", "action_types", [sa.text("lower(name)")], unique=True
        )
