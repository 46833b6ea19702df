"""crm_fields: each field's name as it is compared (`name_key`), unique per table, so that two
concurrent creations of one name cannot both succeed

Revision ID: 20261130_10
Revises: 20261124_10
Create Date: 2026-11-30 02:00:00
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261130_10"
down_revision: str | None = "20261124_10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.crm.naming.field_key as of this revision (a migration keeps its own copy).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d",
        "ԛ": "q", "ԝ": "w", "ү": "y", "һ": "h", "ӏ": "l",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "m", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ζ": "z",
    }
)  # fmt: skip


def _field_key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold().translate(_CONFUSABLES)
    return re.sub(r"[\s_\-]+", "", re.sub(r"\s+", " ", folded).strip())


def upgrade() -> None:
    with op.batch_alter_table("crm_fields", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=255), nullable=True))
    connection = op.get_bind()
    fields = sa.table(
        "crm_fields",
        sa.column("id"),
        sa.column("table_id"),
        sa.column("name"),
        sa.column("name_key"),
    )
    taken: set[tuple[int, str]] = set()
    rows = connection.execute(
        sa.select(fields.c.id, fields.c.table_id, fields.c.name).order_by("id")
    )
    for field_id, table_id, name in rows.all():
        key = _field_key(name)
        # A name taken twice before this revision (no field of it could be addressed by name):
        # the later field keeps its code, and a name key of its own.
        if (table_id, key) in taken:
            key = f"{key}#{field_id}"
        taken.add((table_id, key))
        connection.execute(fields.update().where(fields.c.id == field_id).values(name_key=key))
    with op.batch_alter_table("crm_fields", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint(
            "uq_crm_fields_table_id_name_key", ["table_id", "name_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_fields", schema=None) as batch_op:
        batch_op.drop_constraint("uq_crm_fields_table_id_name_key", type_="unique")
        batch_op.drop_column("name_key")
