"""CRM: tables, fields, dictionaries, records (JSON values), API access, users; built-in schema

Revision ID: 20261123_30
Revises: 20261123_20
Create Date: 2026-11-23 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_30"
down_revision: str | None = "20261123_20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

DICTIONARIES = {
    1: ("Company types", ["Customer", "Partner", "Vendor", "Prospect"]),
    2: (
        "Industries",
        ["Consulting", "Development", "Training", "Manufacturing", "Retail", "Finance"],
    ),
    3: ("SLAs", ["SLA-1 Free", "SLA-2 Standard", "SLA-3 Premium"]),
}
TABLES = {
    1: ("CLIENTS", "Companies", "clients"),
    2: ("CONTACTS", "Contacts", "clients"),
    3: ("PRODUCTS", "Products", "products"),
    4: ("TRANSACTIONS", "Transactions", "transactions"),
}
# table id -> (code, display name, type, dictionary id, names the record)
FIELDS = {
    1: [
        ("org_name", "Company name", "Text", None, True),
        ("org_type", "Company type", "Dictionary", 1, False),
        ("org_www", "Website", "Text", None, False),
        ("org_industry", "Industry", "Dictionary", 2, False),
        ("org_sla", "SLA", "Dictionary", 3, False),
        ("org_phone", "Phone", "Text", None, False),
        ("org_email", "Email", "Text", None, False),
        ("org_address", "Address", "Text", None, False),
        ("org_description", "Description", "Text", None, False),
    ],
    2: [
        ("contact_name", "Contact name", "Text", None, True),
        ("contact_company", "Company", "Company", None, False),
        ("contact_email", "Email", "Text", None, False),
        ("contact_phone", "Phone", "Text", None, False),
        ("contact_position", "Position", "Text", None, False),
        ("contact_login", "Login", "Text", None, False),
    ],
    3: [
        ("product_name", "Product Name", "Text", None, True),
        ("product_price", "Price", "Number", None, False),
        ("product_vendor", "Vendor", "Text", None, False),
        ("product_area", "Area", "Text", None, False),
    ],
    4: [
        ("transaction_name", "Name", "Text", None, True),
        ("transaction_sale", "Sale", "Text", None, False),
        ("transaction_company", "Company", "Company", None, False),
        ("transaction_contact", "Contact", "Text", None, False),
        ("transaction_product", "Product", "Text", None, False),
        ("transaction_amount", "Amount", "Number", None, False),
        ("transaction_date", "Date", "Date", None, False),
        ("transaction_status", "Status", "Text", None, False),
    ],
}


def upgrade() -> None:
    op.create_table(
        "crm_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_salt", sa.String(length=64), nullable=True),
        sa.Column("api_key_hash", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_settings")),
    )
    op.create_table(
        "crm_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=255), nullable=False),
        sa.Column("user_key", sa.String(length=255), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_users")),
        sa.UniqueConstraint("user_key", name=op.f("uq_crm_users_user_key")),
    )
    op.create_table(
        "crm_tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("prefix", sa.String(length=64), nullable=False),
        sa.Column("built_in", sa.Boolean(), nullable=False),
        sa.Column("last_number", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tables")),
        sa.UniqueConstraint("code", name=op.f("uq_crm_tables_code")),
    )
    op.create_table(
        "crm_dictionaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_key", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_dictionaries")),
        sa.UniqueConstraint("name_key", name=op.f("uq_crm_dictionaries_name_key")),
    )
    op.create_table(
        "crm_dictionary_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dictionary_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("value_key", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["dictionary_id"],
            ["crm_dictionaries.id"],
            name=op.f("fk_crm_dictionary_values_dictionary_id_crm_dictionaries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_dictionary_values")),
        sa.UniqueConstraint(
            "dictionary_id",
            "value_key",
            name=op.f("uq_crm_dictionary_values_dictionary_id_value_key"),
        ),
    )
    op.create_table(
        "crm_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("field_type", sa.String(length=32), nullable=False),
        sa.Column("dictionary_id", sa.Integer(), nullable=True),
        sa.Column("is_name", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dictionary_id"],
            ["crm_dictionaries.id"],
            name=op.f("fk_crm_fields_dictionary_id_crm_dictionaries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["crm_tables.id"],
            name=op.f("fk_crm_fields_table_id_crm_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_fields")),
        sa.UniqueConstraint("table_id", "code", name=op.f("uq_crm_fields_table_id_code")),
    )
    with op.batch_alter_table("crm_fields", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_fields_table_id"), ["table_id"], unique=False)

    op.create_table(
        "crm_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("name_key", sa.String(length=1024), nullable=False),
        sa.Column("data", JSON_DOCUMENT, nullable=False),
        sa.Column("search", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["crm_tables.id"],
            name=op.f("fk_crm_records_table_id_crm_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_records")),
        sa.UniqueConstraint("table_id", "number", name=op.f("uq_crm_records_table_id_number")),
    )
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crm_records_table_id_name_key", ["table_id", "name_key"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_crm_records_search ON crm_records USING gin (search jsonb_path_ops)"
        )
    _seed()


def _seed() -> None:
    dictionaries = sa.table(
        "crm_dictionaries",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )
    values = sa.table(
        "crm_dictionary_values",
        sa.column("dictionary_id", sa.Integer),
        sa.column("value", sa.String),
        sa.column("value_key", sa.String),
    )
    tables = sa.table(
        "crm_tables",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("prefix", sa.String),
        sa.column("built_in", sa.Boolean),
    )
    fields = sa.table(
        "crm_fields",
        sa.column("table_id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("field_type", sa.String),
        sa.column("dictionary_id", sa.Integer),
        sa.column("is_name", sa.Boolean),
        sa.column("position", sa.Integer),
    )
    op.bulk_insert(
        dictionaries,
        [
            {"id": i, "name": name, "name_key": name.lower()}
            for i, (name, _) in DICTIONARIES.items()
        ],
    )
    op.bulk_insert(
        values,
        [
            {"dictionary_id": i, "value": value, "value_key": value.lower()}
            for i, (_, items) in DICTIONARIES.items()
            for value in items
        ],
    )
    op.bulk_insert(
        tables,
        [
            {"id": i, "code": code, "name": name, "prefix": prefix, "built_in": True}
            for i, (code, name, prefix) in TABLES.items()
        ],
    )
    op.bulk_insert(
        fields,
        [
            {
                "table_id": table_id,
                "code": code,
                "name": name,
                "field_type": field_type,
                "dictionary_id": dictionary_id,
                "is_name": is_name,
                "position": position,
            }
            for table_id, specs in FIELDS.items()
            for position, (code, name, field_type, dictionary_id, is_name) in enumerate(specs)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        for name in ("crm_dictionaries", "crm_tables"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT MAX(id) FROM {name}))"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_crm_records_search")
    with op.batch_alter_table("crm_records", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_records_table_id_name_key")
    op.drop_table("crm_records")
    with op.batch_alter_table("crm_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_fields_table_id"))
    op.drop_table("crm_fields")
    op.drop_table("crm_dictionary_values")
    op.drop_table("crm_dictionaries")
    op.drop_table("crm_tables")
    op.drop_table("crm_users")
    op.drop_table("crm_settings")
