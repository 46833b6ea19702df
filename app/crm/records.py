"""CRM records: one found by id or by name, created, changed, deleted, or many created at once.
A company field holds the company's id; a company named but missing is added."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.errors import BadRequest, Conflict, NotFound
from app.crm.models import CrmField, CrmFieldType, CrmRecord, CrmTable
from app.crm.naming import compact, normalized
from app.crm.params import Assignment
from app.crm.schema import TableSchema
from app.crm.tables import COMPANIES, CONTACTS, load_table
from app.crm.values import FieldValueError, convert, display

MAX_NAME_MATCHES = 20


async def get_record(session: AsyncSession, table: TableSchema, record_id: int) -> CrmRecord:
    record = await session.scalar(
        select(CrmRecord).where(
            col(CrmRecord.table_id) == table.id, col(CrmRecord.number) == record_id
        )
    )
    if record is None:
        raise NotFound(f"No {_noun(table)} with id {record_id}.")
    return record


async def find_by_name(session: AsyncSession, table: TableSchema, name: str) -> list[CrmRecord]:
    """Records named `name`, compared normalised; an exact (spaced) match beats a compact one."""
    found = list(
        (
            await session.scalars(
                select(CrmRecord)
                .where(
                    col(CrmRecord.table_id) == table.id, col(CrmRecord.name_key) == compact(name)
                )
                .order_by(col(CrmRecord.number))
                .limit(MAX_NAME_MATCHES)
            )
        ).all()
    )
    if len(found) > 1:
        exact = [r for r in found if normalized(r.name) == normalized(name)]
        if exact:
            return exact
    return found


async def search_by_name(
    session: AsyncSession, table: TableSchema, text: str, limit: int
) -> list[CrmRecord]:
    """Records whose name holds `text` (compared normalised), by number; all when blank."""
    query = select(CrmRecord).where(col(CrmRecord.table_id) == table.id)
    if text.strip():
        query = query.where(col(CrmRecord.name_key).contains(compact(text), autoescape=True))
    return list((await session.scalars(query.order_by(col(CrmRecord.number)).limit(limit))).all())


async def one_by_name(session: AsyncSession, table: TableSchema, name: str) -> CrmRecord:
    found = await find_by_name(session, table, name)
    if not found:
        raise NotFound(f"No {_noun(table)} named {name.strip()!r}.")
    if len(found) > 1:
        ids = ", ".join(str(r.number) for r in found)
        raise Conflict(
            f"Several {_noun(table)} records are named {name.strip()!r} (ids {ids}); give the id.",
            code="Ambiguous",
        )
    return found[0]


async def by_id_or_name(
    session: AsyncSession,
    table: TableSchema,
    record_id: int | None,
    name: str | None,
    parameters: tuple[str, str],
) -> CrmRecord:
    if record_id is not None:
        return await get_record(session, table, record_id)
    if name is not None:
        return await one_by_name(session, table, name)
    raise BadRequest(
        f"Parameter {parameters[1]!r} or {parameters[0]!r} is required.", code="MissingParameter"
    )


async def write(
    session: AsyncSession,
    table: TableSchema,
    assignments: dict[str, Assignment],
    record: CrmRecord | None = None,
) -> CrmRecord:
    """Create a record (record None) or change the assigned fields of one."""
    data = dict(record.data) if record else {}
    search = dict(record.search) if record else {}
    for assignment in assignments.values():
        spec = assignment.spec
        try:
            if spec.field_type is CrmFieldType.COMPANY:
                company = await _company_for(session, assignment)
                converted = (company, company) if company is not None else None
            else:
                value = convert(spec, assignment.text)
                converted = (value.data, value.search) if value is not None else None
        except FieldValueError as exc:
            raise BadRequest(
                f"Parameter {assignment.parameter.strip()!r}: {exc}", code="BadFieldValue"
            ) from exc
        if converted is None:
            data.pop(spec.code, None)
            search.pop(spec.code, None)
        else:
            data[spec.code], search[spec.code] = converted
    name_field = table.name_field
    name = display(data.get(name_field.code)) if name_field else ""
    if name_field is not None and not name:
        raise BadRequest(
            f"Field {table.full_code(name_field)!r} ({name_field.name}) is required.",
            code="MissingField",
        )
    if record is None:
        (number,) = await allocate_numbers(session, table, 1)
        record = CrmRecord(table_id=table.id, number=number)
        session.add(record)
    record.data, record.search = data, search
    record.name, record.name_key = name[:1024], compact(name)[:1024]
    record.updated_at = utcnow()
    await session.flush()
    return record


async def _company_for(session: AsyncSession, assignment: Assignment) -> str | None:
    """A company reference: by id (raw form) or by name; a company named but missing is added."""
    text = assignment.text.strip()
    if not text:
        return None
    companies = await load_table(session, COMPANIES)
    if not assignment.view and text.isdigit() and int(text) < 2**31:
        number = await session.scalar(
            select(col(CrmRecord.number)).where(
                col(CrmRecord.table_id) == companies.id, col(CrmRecord.number) == int(text)
            )
        )
        if number is not None:
            return str(number)
    found = await find_by_name(session, companies, text)
    if len(found) > 1:
        ids = ", ".join(str(r.number) for r in found)
        raise Conflict(
            f"Parameter {assignment.parameter.strip()!r}: several companies are named "
            f"{text!r} (ids {ids}).",
            code="Ambiguous",
        )
    if found:
        return str(found[0].number)
    name_field = companies.name_field
    assert name_field is not None
    created = await write(
        session, companies, {name_field.code: Assignment(name_field, text, "", view=True)}
    )
    return str(created.number)


async def delete_record(session: AsyncSession, table: TableSchema, record: CrmRecord) -> None:
    """Delete a record; references to it (company fields) are cleared."""
    if table.code == COMPANIES:
        for field in (
            await session.scalars(
                select(CrmField).where(col(CrmField.field_type) == CrmFieldType.COMPANY)
            )
        ).all():
            referring = (
                await session.scalars(
                    select(CrmRecord).where(
                        col(CrmRecord.table_id) == field.table_id,
                        has_value(session, field.code, str(record.number), multi=False),
                    )
                )
            ).all()
            for other in referring:
                other.data = {k: v for k, v in other.data.items() if k != field.code}
                other.search = {k: v for k, v in other.search.items() if k != field.code}
    await session.execute(delete(CrmRecord).where(col(CrmRecord.id) == record.id))
    await session.flush()


async def allocate_numbers(session: AsyncSession, table: TableSchema, count: int) -> range:
    """The next `count` record ids of a table (a counter row: concurrent writers queue on it)."""
    last = await session.scalar(
        update(CrmTable)
        .where(col(CrmTable.id) == table.id)
        .values(last_number=col(CrmTable.last_number) + count)
        .returning(col(CrmTable.last_number))
    )
    assert last is not None
    return range(last - count + 1, last + 1)


async def bulk_create(
    session: AsyncSession, table: TableSchema, rows: Sequence[dict[str, str]]
) -> int:
    """Many records in one statement (imports, benchmarks): rows of field code -> text;
    company references are given by company id."""
    name_field = table.name_field
    numbers = await allocate_numbers(session, table, len(rows))
    now = utcnow()
    values: list[dict[str, Any]] = []
    for number, row in zip(numbers, rows, strict=True):
        data: dict[str, Any] = {}
        search: dict[str, Any] = {}
        for code, text in row.items():
            spec = table.by_code(code)
            if spec is None:
                raise BadRequest(f"The table {table.code} has no field {code!r}.")
            if spec.field_type is CrmFieldType.COMPANY:
                data[code] = search[code] = str(int(text))
            elif (value := convert(spec, text)) is not None:
                data[code], search[code] = value.data, value.search
        name = display(data.get(name_field.code)) if name_field else ""
        values.append(
            {
                "table_id": table.id,
                "number": number,
                "name": name[:1024],
                "name_key": compact(name)[:1024],
                "data": data,
                "search": search,
                "created_at": now,
                "updated_at": now,
            }
        )
    if values:
        await session.execute(insert(CrmRecord), values)
    return len(values)


def has_value(session: AsyncSession, code: str, value: str, *, multi: bool) -> ColumnElement[bool]:
    """The record's searchable value of `code` is (or, for a list, holds) `value`."""
    if _dialect(session) == "postgresql":
        document = type_coerce(CrmRecord.search, JSONB)
        return document.contains({code: [value] if multi else value})
    items = func.json_each(CrmRecord.search, f'$."{code}"').table_valued("value")
    return exists(select(literal(1)).select_from(items).where(items.c.value == value))


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else ""


def _noun(table: TableSchema) -> str:
    return {COMPANIES: "company", CONTACTS: "contact"}.get(table.code, table.code.lower())
