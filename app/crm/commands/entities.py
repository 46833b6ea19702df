"""The commands on any table: searchentities, updateorcreateentity, and transactionslist (a
search of TRANSACTIONS by `<field>Val` parameters)."""

from __future__ import annotations

import re
from typing import Any

from app.core.errors import BadRequest
from app.crm.commands.context import CommandContext, answer_one, answer_page
from app.crm.params import plan_assignments
from app.crm.records import get_record, write
from app.crm.schema import TableSchema, resolve_field
from app.crm.search import Condition, search_condition
from app.crm.tables import TRANSACTIONS, load_table


async def _pair_conditions(
    ctx: CommandContext, table: TableSchema, pairs: list[tuple[str, str, str]]
) -> list[Condition]:
    conditions = []
    for field, value, parameter in pairs:
        ref = resolve_field(table, field)
        if ref is None:
            raise BadRequest(
                f"Parameter {parameter!r}: unknown field {field!r} for table {table.code}.",
                code="UnknownField",
            )
        conditions.append(await search_condition(ctx.session, ref.spec, value, parameter))
    return conditions


async def search_entities(ctx: CommandContext) -> dict[str, Any]:
    table = await load_table(ctx.session, ctx.params.require("tableName"))
    conditions = await _pair_conditions(ctx, table, ctx.params.pairs())
    return await answer_page(ctx, table, "entities", conditions)


async def update_or_create_entity(ctx: CommandContext) -> dict[str, Any]:
    table = await load_table(ctx.session, ctx.params.require("tableName"))
    record_id = ctx.params.record_id("id")
    items = [(field, value) for field, value, _ in ctx.params.pairs()]
    if unexpected := ctx.params.field_items({"tableName", "id"}):
        raise BadRequest(
            f"Unknown parameter {unexpected[0][0]!r}; give fields as crm_param_N pairs.",
            code="UnknownParameter",
        )
    try:
        assignments = plan_assignments(table, items)
    except BadRequest as exc:
        exc.message = exc.message.replace("Unknown field", "crm_param: unknown field")
        raise
    record = await get_record(ctx.session, table, record_id) if record_id else None
    written = await write(ctx.session, table, assignments, record)
    return await answer_one(ctx, table, written, created=record is None)


_VAL_PARAM = re.compile(r"(\w+?)Val", re.IGNORECASE)


async def transactions_list(ctx: CommandContext) -> dict[str, Any]:
    """Transactions by `<field>Val` parameters (`saleVal` = the issue key) and crm_param pairs."""
    table = await load_table(ctx.session, TRANSACTIONS)
    pairs = ctx.params.pairs()
    for key, value in ctx.params.field_items({"startAt", "maxResults"}):
        match = _VAL_PARAM.fullmatch(key.strip())
        if match is None:
            raise BadRequest(f"Unknown parameter {key!r}.", code="UnknownParameter")
        stem = match.group(1)
        spec_name = stem if table.by_code(stem) else f"transaction_{stem.lower()}"
        if resolve_field(table, spec_name) is None:
            raise BadRequest(f"Unknown parameter {key!r}.", code="UnknownParameter")
        if value.strip():
            pairs.append((spec_name, value, key))
    conditions = await _pair_conditions(ctx, table, pairs)
    return await answer_page(ctx, table, "transactions", conditions)
