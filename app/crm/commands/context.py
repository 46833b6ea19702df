"""What every CRM command gets (the session and the call's parameters), and what most of them
share: the company or contact the parameters name, and an answer of one record or of a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.crm.answers import render, render_many
from app.crm.params import Params, plan_assignments
from app.crm.records import by_id_or_name, write
from app.crm.schema import TableSchema
from app.crm.search import Condition, find_records
from app.crm.tables import COMPANIES, CONTACTS, load_table


@dataclass
class CommandContext:
    session: AsyncSession
    params: Params


Handler = Callable[[CommandContext], Awaitable[dict[str, Any]]]


def ok(**answer: Any) -> dict[str, Any]:
    return {"success": True, **answer}


@dataclass(frozen=True)
class Named:
    """A table whose records commands name by id or by name (companies, contacts)."""

    table: str
    id_key: str
    name_key: str

    @property
    def keys(self) -> tuple[str, str]:
        return (self.id_key, self.name_key)


COMPANY = Named(COMPANIES, "companyId", "companyName")
CONTACT = Named(CONTACTS, "contactId", "contactName")


async def named_record(ctx: CommandContext, named: Named, table: TableSchema | None = None) -> Any:
    """The record the call's parameters name (by id or by name)."""
    table = table or await load_table(ctx.session, named.table)
    return await by_id_or_name(
        ctx.session,
        table,
        ctx.params.record_id(named.id_key),
        ctx.params.get(named.name_key),
        named.keys,
    )


def get_named(named: Named) -> Handler:
    """getcompanybyname, getcontactbyname."""

    async def get(ctx: CommandContext) -> dict[str, Any]:
        table = await load_table(ctx.session, named.table)
        return await answer_one(ctx, table, await named_record(ctx, named, table))

    return get


def edit_named(named: Named) -> Handler:
    """editcompany, editcontact: the other parameters are the fields to change."""

    async def edit(ctx: CommandContext) -> dict[str, Any]:
        table = await load_table(ctx.session, named.table)
        record = await named_record(ctx, named, table)
        assignments = plan_assignments(table, ctx.params.field_items(named.keys))
        return await answer_one(ctx, table, await write(ctx.session, table, assignments, record))

    return edit


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
