"""What every CRM command gets (the session and the call's parameters), and what most of them
share: the company or contact the parameters name, and an answer of one record or of a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.crm.answers import render, render_many
from app.crm.params import Params
from app.crm.records import by_id_or_name
from app.crm.schema import TableSchema
from app.crm.search import Condition, find_records
from app.crm.tables import COMPANIES, CONTACTS, load_table


@dataclass
class CommandContext:
    session: AsyncSession
    params: Params


Handler = Callable[[CommandContext], Awaitable[dict[str, Any]]]
COMPANY_KEYS = ("companyId", "companyName")
CONTACT_KEYS = ("contactId", "contactName")


def ok(**answer: Any) -> dict[str, Any]:
    return {"success": True, **answer}


async def company_named(ctx: CommandContext, table: TableSchema | None = None) -> Any:
    table = table or await load_table(ctx.session, COMPANIES)
    return await by_id_or_name(
        ctx.session,
        table,
        ctx.params.record_id("companyId"),
        ctx.params.get("companyName"),
        COMPANY_KEYS,
    )


async def contact_named(ctx: CommandContext, table: TableSchema | None = None) -> Any:
    table = table or await load_table(ctx.session, CONTACTS)
    return await by_id_or_name(
        ctx.session,
        table,
        ctx.params.record_id("contactId"),
        ctx.params.get("contactName"),
        CONTACT_KEYS,
    )


async def answer_one(
    ctx: CommandContext, table: TableSchema, record: Any, **extra: Any
) -> dict[str, Any]:
    return ok(**(await render(ctx.session, table, record)), **extra)


async def answer_page(
    ctx: CommandContext, table: TableSchema, key: str, conditions: list[Condition]
) -> dict[str, Any]:
    start, size = ctx.params.page()
    records, total = await find_records(ctx.session, table, conditions, start, size)
    items = await render_many(ctx.session, table, records)
    return ok(**{key: items}, total=total, startAt=start, maxResults=size)
