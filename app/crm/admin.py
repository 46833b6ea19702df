"""Admin of the CRM schema: tables and their fields (built-in ones are kept)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest, Conflict, NotFound
from app.crm.dictionaries import get_dictionary
from app.crm.models import CrmField, CrmFieldType, CrmTable
from app.crm.naming import field_key, normalized
from app.crm.schema import FieldSpec, TableSchema
from app.crm.tables import forget_schemas, load_table

_TABLE_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_FIELD_CODE = re.compile(r"[a-z][a-z0-9_\-]{0,127}")
DICTIONARY_TYPES = (CrmFieldType.DICTIONARY, CrmFieldType.MULTI_DICTIONARY)
# Built-in fields the commands read or write by code.
COMMAND_FIELDS = frozenset(
    {"contact_company", "contact_email", "contact_login", "transaction_sale", "transaction_company"}
)


async def list_tables(session: AsyncSession) -> list[CrmTable]:
    return list((await session.scalars(select(CrmTable).order_by(col(CrmTable.id)))).all())


async def get_table_row(session: AsyncSession, code: str) -> CrmTable:
    schema = await load_table(session, code)
    table = await session.get(CrmTable, schema.id)
    assert table is not None
    return table


async def create_table(
    session: AsyncSession, code: str, name: str, name_field: str | None
) -> CrmTable:
    """A new table, with the text field that names its records (`<prefix>-name`)."""
    forget_schemas(session)
    code = code.strip().upper()
    if not _TABLE_CODE.fullmatch(code):
        raise BadRequest("Code must be letters, digits and underscores, starting with a letter.")
    if not name.strip() or len(name) > 255:
        raise BadRequest("Name must be 1 to 255 characters.")
    taken = await session.scalar(
        select(func.count()).select_from(CrmTable).where(col(CrmTable.code) == code)
    )
    if taken:
        raise Conflict(f"A table {code!r} already exists.")
    table = CrmTable(code=code, name=name.strip(), prefix=code.lower(), built_in=False)
    session.add(table)
    await session.flush()
    assert table.id is not None
    field_name = (name_field or "Name").strip() or "Name"
    session.add(
        CrmField(
            table_id=table.id,
            code="name",
            name=field_name,
            name_key=field_key(field_name),
            field_type=CrmFieldType.TEXT,
            is_name=True,
        )
    )
    await session.flush()
    return table


async def delete_table(session: AsyncSession, code: str) -> None:
    forget_schemas(session)
    table = await get_table_row(session, code)
    if table.built_in:
        raise Conflict(f"The built-in table {table.code} cannot be deleted.")
    await session.delete(table)
    await session.flush()


async def create_field(
    session: AsyncSession,
    table: TableSchema,
    *,
    name: str,
    field_type: CrmFieldType,
    dictionary: str | None,
    code: str | None,
) -> CrmField:
    """A custom field; its code is `<prefix>_field_<uuid>` unless one is given."""
    forget_schemas(session)
    name = name.strip()
    if not name or len(name) > 255:
        raise BadRequest("Name must be 1 to 255 characters.")
    if any(field_key(spec.name) == field_key(name) for spec in table.fields):
        raise Conflict(f"The table {table.code} already has a field named {name!r}.")
    short = (code or f"{table.prefix}_field_{uuid.uuid4()}").strip()
    if short.lower().startswith(f"{table.prefix}-"):
        short = short[len(table.prefix) + 1 :]
    if not _FIELD_CODE.fullmatch(short):
        raise BadRequest("Code must be lower-case letters, digits, '_' or '-'.")
    if table.by_code(short) is not None or short in {"id", "name", "table", "byname"}:
        raise Conflict(f"The table {table.code} already has a field {short!r}.")
    dictionary_id: int | None = None
    if field_type in DICTIONARY_TYPES:
        if not dictionary:
            raise BadRequest("Dictionary is required for dictionary fields.")
        dictionary_id = (await get_dictionary(session, dictionary)).id
    elif dictionary:
        raise BadRequest("Dictionary is only for dictionary fields.")
    field = CrmField(
        table_id=table.id,
        code=short,
        name=name,
        name_key=field_key(name),
        field_type=field_type,
        dictionary_id=dictionary_id,
        position=len(table.fields),
    )
    session.add(field)
    await session.flush()
    return field


def find_field(table: TableSchema, code: str) -> FieldSpec:
    wanted = code.strip()
    if wanted.lower().startswith(f"{table.prefix}-"):
        wanted = wanted[len(table.prefix) + 1 :]
    spec = table.by_code(wanted) or next(
        (s for s in table.fields if normalized(s.name) == normalized(code)), None
    )
    if spec is None:
        raise NotFound(f"The table {table.code} has no field {code!r}.")
    return spec


async def delete_field(session: AsyncSession, table: TableSchema, code: str) -> None:
    forget_schemas(session)
    spec = find_field(table, code)
    if spec.is_name or spec.code in COMMAND_FIELDS:
        raise Conflict(f"The field {table.full_code(spec)} is used by the commands; it stays.")
    field = await session.get(CrmField, spec.id)
    assert field is not None
    await session.delete(field)
    await session.flush()
