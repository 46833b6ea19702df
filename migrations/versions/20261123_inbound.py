"""Jira → tickets: the status and type of a linked issue as last applied

Revision ID: 20261123_20
Revises: 20261123_01
Create Date: 2026-11-23 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_20"
down_revision: str | None = "20261123_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jira_issues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("issue_type_name", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jira_issues", schema=None) as batch_op:
        batch_op.drop_column("issue_type_name")
        batch_op.drop_column("status_name")
