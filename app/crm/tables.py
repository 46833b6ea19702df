"""The CRM tables as the commands see them: loaded by code or display name with their fields
and dictionaries, once per session (one request or job step)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import NotFound
from app.crm.models import CrmDictionary, CrmDictionaryValue, CrmField, CrmFieldType, CrmTable
from app.crm.naming import normalized
from app.crm.schema import FieldSpec, TableSchema

COMPANIES = "CLIENTS"
CONTACTS = "CONTACTS"
TRANSACTIONS = "TRANSACTIONS"

SCHEMA_CACHE = "crm_schemas"


def forget_schemas(session: AsyncSession) -> None:
    """Drop the schemas this session loaded (after a change to tables, fields or dictionaries)."""
    session.info.pop(SCHEMA_CACHE, None)


async def load_table(session: AsyncSession, code: str) -> TableSchema:
    """The table by code (`CLIENTS`) or display name (`Companies`), with its fields; loaded once
    per session (one request or job step)."""
    cache: dict[str, TableSchema] = session.info.setdefault(SCHEMA_CACHE, {})
    key = normalized(code)
    if key not in cache:
        cache[key] = await _load_table(session, code)
    return cache[key]


async def _load_table(session: AsyncSession, code: str) -> TableSchema:
    tables = (await session.scalars(select(CrmTable))).all()
    wanted = normalized(code)
    table = next((t for t in tables if normalized(t.code) == wanted), None) or next(
        (t for t in tables if normalized(t.name) == wanted), None
    )
    if table is None or table.id is None:
        raise NotFound(f"Table {code.strip()!r} not found.", code="UnknownTable")
    return await _schema(session, table)


async def _schema(session: AsyncSession, table: CrmTable) -> TableSchema:
    assert table.id is not None
    fields = (
        await session.scalars(
            select(CrmField)
            .where(col(CrmField.table_id) == table.id)
            .order_by(col(CrmField.position), col(CrmField.id))
        )
    ).all()
    dictionary_ids = {f.dictionary_id for f in fields if f.dictionary_id is not None}
    names: dict[int, str] = {}
    choices: dict[int, dict[str, str]] = {i: {} for i in dictionary_ids}
    if dictionary_ids:
        for dictionary in await session.scalars(
            select(CrmDictionary).where(col(CrmDictionary.id).in_(dictionary_ids))
        ):
            names[dictionary.id or 0] = dictionary.name
        for value in await session.scalars(
            select(CrmDictionaryValue).where(
                col(CrmDictionaryValue.dictionary_id).in_(dictionary_ids)
            )
        ):
            choices[value.dictionary_id][value.value_key] = value.value
    specs = tuple(
        FieldSpec(
            id=f.id or 0,
            code=f.code,
            name=f.name,
            field_type=CrmFieldType(f.field_type),
            is_name=f.is_name,
            dictionary=names.get(f.dictionary_id) if f.dictionary_id else None,
            choices=choices.get(f.dictionary_id, {}) if f.dictionary_id else {},
        )
        for f in fields
    )
    return TableSchema(
        id=table.id, code=table.code, name=table.name, prefix=table.prefix, fields=specs
    )
