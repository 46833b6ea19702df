"""Catalogue and Jira instance names unique regardless of case, in the database: two concurrent
creations of "VPN" and "vpn" cannot both succeed (the API already compared names so)

Revision ID: 20261130_11
Revises: 20261130_10
Create Date: 2026-11-30 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261130_11"
down_revision: str | None = "20261130_10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite cannot reflect expression indexes: a later batch_alter_table on one of these tables
# (which copies the table) must create its index again.
# (index, table, scope column or None, name column)
_FOLDED = [
    ("uq_ticket_types_name_folded", "ticket_types", None, "name"),
    ("uq_ticket_statuses_name_folded", "ticket_statuses", "ticket_type_id", "name"),
    ("uq_action_types_name_folded", "action_types", None, "name"),
    ("uq_products_name_folded", "products", None, "name"),
    ("uq_versions_version_number_folded", "versions", "product_id", "version_number"),
    ("uq_custom_fields_name_folded", "custom_fields", None, "name"),
    ("uq_jira_instances_name_folded", "jira_instances", None, "name"),
]


def _rename_case_twins(table_name: str, scope: str | None, column: str) -> None:
    """Names taken twice in different case before this revision (only a race could do it): the
    oldest row keeps its name, each later one gets " (ID n)" appended, so none is lost."""
    connection = op.get_bind()
    columns = [sa.column("id"), sa.column(column)] + ([sa.column(scope)] if scope else [])
    table = sa.table(table_name, *columns)
    scope_of = (lambda row: row[2]) if scope else (lambda row: None)
    taken: set[tuple[object, str]] = set()
    rows = connection.execute(sa.select(*table.c).order_by(table.c.id)).all()
    for row in rows:
        name = row[1]
        if (scope_of(row), name.lower()) in taken:
            name = f"{name[:240]} (ID {row[0]})"
            connection.execute(table.update().where(table.c.id == row[0]).values({column: name}))
        taken.add((scope_of(row), name.lower()))


def upgrade() -> None:
    for index, table_name, scope, column in _FOLDED:
        _rename_case_twins(table_name, scope, column)
        expressions = [sa.text(scope)] if scope else []
        op.create_index(index, table_name, [*expressions, sa.text(f"lower({column})")], unique=True)


def downgrade() -> None:
    for index, table_name, _scope, _column in reversed(_FOLDED):
        op.drop_index(index, table_name=table_name)
