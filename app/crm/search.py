"""Searches on a CRM table: records whose fields have given values, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest
from app.crm.models import CrmFieldType, CrmRecord
from app.crm.naming import compact
from app.crm.records import find_by_name, has_value
from app.crm.schema import FieldSpec, TableSchema
from app.crm.tables import COMPANIES, load_table
from app.crm.values import search_form


@dataclass(frozen=True)
class Condition:
    """Records whose field has one of `values` (already in search form)."""

    spec: FieldSpec
    values: tuple[str, ...]


async def search_condition(
    session: AsyncSession, spec: FieldSpec, text: str, parameter: str
) -> Condition:
    """A field = value condition; a company reference may be given by id or by name."""
    if spec.field_type is CrmFieldType.COMPANY:
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
    multi = spec.field_type is CrmFieldType.MULTI_DICTIONARY
    return or_(*(has_value(session, spec.code, value, multi=multi) for value in condition.values))
