"""Queries and changes on CRM records: lookups by id or name, writes, lists and searches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.errors import BadRequest, Conflict, NotFound
from app.crm.models import (
    CrmDictionary,
    CrmDictionaryValue,
    CrmField,
    CrmRecord,
    CrmTable,
    FieldType,
)
from app.crm.naming import compact, normalized
from app.crm.params import Assignment
from app.crm.schema import FieldSpec, TableSchema
from app.crm.values import FieldValueError, convert, display, search_form

COMPANIES = "CLIENTS"
CONTACTS = "CONTACTS"
TRANSACTIONS = "TRANSACTIONS"
MAX_NAME_MATCHES = 20


# -- schema ---------------------------------------------------------------------------------


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
            field_type=FieldType(f.field_type),
            is_name=f.is_name,
            dictionary=names.get(f.dictionary_id) if f.dictionary_id else None,
            choices=choices.get(f.dictionary_id, {}) if f.dictionary_id else {},
        )
        for f in fields
    )
    return TableSchema(
        id=table.id, code=table.code, name=table.name, prefix=table.prefix, fields=specs
    )


# -- finding records ------------------------------------------------------------------------


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


# -- writing records ------------------------------------------------------------------------


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
            if spec.field_type is FieldType.COMPANY:
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
                select(CrmField).where(col(CrmField.field_type) == FieldType.COMPANY)
            )
        ).all():
            referring = (
                await session.scalars(
                    select(CrmRecord).where(
                        col(CrmRecord.table_id) == field.table_id,
                        _has_value(session, field.code, str(record.number), multi=False),
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
            if spec.field_type is FieldType.COMPANY:
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


# -- lists and searches ---------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """Records whose field has one of `values` (already in search form)."""

    spec: FieldSpec
    values: tuple[str, ...]


async def search_condition(
    session: AsyncSession, spec: FieldSpec, text: str, parameter: str
) -> Condition:
    """A field = value condition; a company reference may be given by id or by name."""
    if spec.field_type is FieldType.COMPANY:
        companies = await load_table(session, COMPANIES)
        ids = [str(r.number) for r in await find_by_name(session, companies, text)]
        if text.strip().isdigit() and len(text.strip()) < 12:
            ids.append(str(int(text.strip())))
        return Condition(spec, tuple(ids))
    if not text.strip():
        raise BadRequest(f"Parameter '{parameter}_value' is empty.", code="BadParameter")
    return Condition(spec, (search_form(spec, text),))


async def find_records(
    session: AsyncSession,
    table: TableSchema,
    conditions: Sequence[Condition],
    start: int,
    size: int,
) -> tuple[list[CrmRecord], int]:
    """A page of the table's records meeting every condition, by id, and how many there are."""
    clauses: list[ColumnElement[bool]] = [col(CrmRecord.table_id) == table.id]
    for condition in conditions:
        clauses.append(_condition_clause(session, condition))
    where = and_(*clauses)
    total = await session.scalar(select(func.count()).select_from(CrmRecord).where(where))
    if not total:
        return [], 0
    rows = await session.scalars(
        select(CrmRecord).where(where).order_by(col(CrmRecord.number)).offset(start).limit(size)
    )
    return list(rows.all()), int(total)


def _condition_clause(session: AsyncSession, condition: Condition) -> ColumnElement[bool]:
    spec = condition.spec
    if not condition.values:
        return literal(False)
    if spec.is_name:
        return col(CrmRecord.name_key).in_([compact(value) for value in condition.values])
    multi = spec.field_type is FieldType.MULTI_DICTIONARY
    return or_(*(_has_value(session, spec.code, value, multi=multi) for value in condition.values))


def _has_value(session: AsyncSession, code: str, value: str, *, multi: bool) -> ColumnElement[bool]:
    """The record's searchable value of `code` is (or, for a list, holds) `value`."""
    if _dialect(session) == "postgresql":
        document = type_coerce(CrmRecord.search, JSONB)
        return document.contains({code: [value] if multi else value})
    items = func.json_each(CrmRecord.search, f'$."{code}"').table_valued("value")
    return exists(select(literal(1)).select_from(items).where(items.c.value == value))


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else ""


# -- answers --------------------------------------------------------------------------------


async def render_many(
    session: AsyncSession, table: TableSchema, records: Iterable[CrmRecord]
) -> list[dict[str, Any]]:
    """Records in CRM for Jira's shape: `id`, `name`, then each field by its code."""
    records = list(records)
    company_ids = {
        int(record.data[spec.code])
        for record in records
        for spec in table.fields
        if spec.field_type is FieldType.COMPANY and str(record.data.get(spec.code, "")).isdigit()
    }
    company_names: dict[str, str] = {}
    if company_ids:
        companies = await load_table(session, COMPANIES)
        rows = await session.execute(
            select(col(CrmRecord.number), col(CrmRecord.name)).where(
                col(CrmRecord.table_id) == companies.id, col(CrmRecord.number).in_(company_ids)
            )
        )
        company_names = {str(row[0]): row[1] for row in rows}
    return [_render(table, record, company_names) for record in records]


async def render(session: AsyncSession, table: TableSchema, record: CrmRecord) -> dict[str, Any]:
    return (await render_many(session, table, [record]))[0]


def _render(table: TableSchema, record: CrmRecord, company_names: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": str(record.number), "name": record.name, "table": table.code}
    by_name: dict[str, str] = {}
    for spec in table.fields:
        value = record.data.get(spec.code)
        if spec.field_type is FieldType.COMPANY:
            company_id = display(value)
            answer[f"{spec.code}_id"] = company_id
            shown = company_names.get(company_id, "")
        else:
            shown = display(value)
        answer.setdefault(spec.code, shown)
        by_name[spec.name] = shown
    answer["byName"] = by_name
    return answer


def _noun(table: TableSchema) -> str:
    return {COMPANIES: "company", CONTACTS: "contact"}.get(table.code, table.code.lower())
