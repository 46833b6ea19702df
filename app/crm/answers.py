"""CRM records as the commands answer them, in CRM for Jira's shape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.crm.models import CrmFieldType, CrmRecord
from app.crm.schema import TableSchema
from app.crm.tables import COMPANIES, load_table
from app.crm.values import display


async def render_many(
    session: AsyncSession, table: TableSchema, records: Iterable[CrmRecord]
) -> list[dict[str, Any]]:
    """Records in CRM for Jira's shape: `id`, `name`, then each field by its code."""
    records = list(records)
    company_ids = {
        int(record.data[spec.code])
        for record in records
        for spec in table.fields
        if spec.field_type is CrmFieldType.COMPANY and str(record.data.get(spec.code, "")).isdigit()
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
        if spec.field_type is CrmFieldType.COMPANY:
            company_id = display(value)
            answer[f"{spec.code}_id"] = company_id
            shown = company_names.get(company_id, "")
        else:
            shown = display(value)
        answer.setdefault(spec.code, shown)
        by_name[spec.name] = shown
    answer["byName"] = by_name
    return answer
