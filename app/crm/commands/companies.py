"""The company commands: getcompanies, addcompany, deletecompany (getcompanybyname and
editcompany are the named-record commands of `context`)."""

from __future__ import annotations

from typing import Any

from app.core.errors import BadRequest, Conflict
from app.crm.commands.context import (
    COMPANY,
    CommandContext,
    answer_one,
    answer_page,
    named_record,
    ok,
)
from app.crm.params import plan_assignments
from app.crm.records import delete_record, find_by_name, write
from app.crm.tables import COMPANIES, load_table


async def get_companies(ctx: CommandContext) -> dict[str, Any]:
    table = await load_table(ctx.session, COMPANIES)
    return await answer_page(ctx, table, "companies", [])


async def add_company(ctx: CommandContext) -> dict[str, Any]:
    table_name = ctx.params.get("tableName")
    if table_name is not None and (await load_table(ctx.session, table_name)).code != COMPANIES:
        raise BadRequest(
            "Parameter 'tableName' must be CLIENTS for addcompany.", code="BadParameter"
        )
    table = await load_table(ctx.session, COMPANIES)
    assignments = plan_assignments(table, ctx.params.field_items({"tableName"}))
    name_field = table.name_field
    assert name_field is not None
    name = assignments.get(name_field.code)
    if name is not None and name.text.strip():
        existing = await find_by_name(ctx.session, table, name.text)
        if existing:
            ids = ", ".join(str(r.number) for r in existing)
            raise Conflict(
                f"A company named {name.text.strip()!r} already exists (id {ids}).", code="Exists"
            )
    record = await write(ctx.session, table, assignments)
    return await answer_one(ctx, table, record)


async def delete_company(ctx: CommandContext) -> dict[str, Any]:
    table = await load_table(ctx.session, COMPANIES)
    company = await named_record(ctx, COMPANY, table)
    await delete_record(ctx.session, table, company)
    return ok(id=str(company.number), deleted=True)
