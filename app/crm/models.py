"""CRM tables: the schema (tables, fields, dictionaries), the records, API access and users.

Custom fields extend a table without a migration: a record keeps its values in one JSON column
(`data`, by field code) plus their normalised forms (`search`, JSONB with a GIN index on
PostgreSQL) and its normalised name (`name_key`, B-tree) for fast lookups.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core.db import utcnow

JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")


class CrmFieldType(StrEnum):
    TEXT = "Text"
    NUMBER = "Number"
    DATE = "Date"
    DICTIONARY = "Dictionary"
    MULTI_DICTIONARY = "MultiDictionary"
    COMPANY = "Company"


class CrmSettings(SQLModel, table=True):
    """One row: the API key, kept as a salted HMAC so the stored value cannot be replayed."""

    __tablename__ = "crm_settings"

    id: int | None = Field(default=None, primary_key=True)
    api_key_salt: str | None = Field(default=None, max_length=64)
    api_key_hash: str | None = Field(default=None, max_length=128)


class CrmUser(SQLModel, table=True):
    __tablename__ = "crm_users"

    id: int | None = Field(default=None, primary_key=True)
    user_name: str = Field(max_length=255)
    user_key: str = Field(max_length=255, unique=True)
    rights: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class CrmTable(SQLModel, table=True):
    __tablename__ = "crm_tables"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=255)
    # Field codes of this table start with `<prefix>-` (companies and contacts share `clients`).
    prefix: str = Field(max_length=64)
    built_in: bool = False
    last_number: int = 0  # record ids are numbered per table, as CRM for Jira's are


class CrmDictionary(SQLModel, table=True):
    __tablename__ = "crm_dictionaries"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    name_key: str = Field(max_length=255, unique=True)


class CrmDictionaryValue(SQLModel, table=True):
    __tablename__ = "crm_dictionary_values"
    __table_args__ = (UniqueConstraint("dictionary_id", "value_key"),)

    id: int | None = Field(default=None, primary_key=True)
    dictionary_id: int = Field(foreign_key="crm_dictionaries.id", ondelete="CASCADE")
    value: str = Field(max_length=255)
    value_key: str = Field(max_length=255)


class CrmField(SQLModel, table=True):
    __tablename__ = "crm_fields"
    __table_args__ = (
        UniqueConstraint("table_id", "code"),
        UniqueConstraint("table_id", "name_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    table_id: int = Field(foreign_key="crm_tables.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=128)  # without the table prefix: `org_name`
    name: str = Field(max_length=255)  # display name: `Company name`
    name_key: str = Field(max_length=255)  # the name as compared (`naming.field_key`)
    field_type: str = Field(max_length=32)
    dictionary_id: int | None = Field(
        default=None, foreign_key="crm_dictionaries.id", ondelete="SET NULL"
    )
    is_name: bool = False  # the field that names the record
    position: int = 0


class CrmRecord(SQLModel, table=True):
    __tablename__ = "crm_records"
    __table_args__ = (
        UniqueConstraint("table_id", "number"),
        Index("ix_crm_records_table_id_name_key", "table_id", "name_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    table_id: int = Field(foreign_key="crm_tables.id", ondelete="CASCADE")
    number: int  # the id the API shows, per table
    name: str = Field(default="", max_length=1024)
    name_key: str = Field(default="", max_length=1024)
    data: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON_DOCUMENT, nullable=False)
    )
    search: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON_DOCUMENT, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
