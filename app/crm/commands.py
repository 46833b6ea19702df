"""The commands of the CRM API: each takes the call's parameters and answers a JSON object."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BadRequest, Conflict, NotFound
from app.crm import dictionaries, records, search, tables
from app.crm.answers import render, render_many
from app.crm.jobs import enqueue_set_properties
from app.crm.params import Assignment, Params, plan_assignments
from app.crm.schema import TableSchema, resolve_field
from app.crm.search import Condition
from app.crm.tables import COMPANIES, CONTACTS, TRANSACTIONS


@dataclass
class CommandContext:
    session: AsyncSession
    params: Params


Handler = Callable[[CommandContext], Awaitable[dict[str, Any]]]
COMPANY_KEYS = ("companyId", "companyName")
CONTACT_KEYS = ("contactId", "contactName")


def command_key(name: str) -> str:
    return name.strip().lower()


def ok(**answer: Any) -> dict[str, Any]:
    return {"success": True, **answer}


async def _company(ctx: CommandContext, table: TableSchema | None = None) -> Any:
    table = table or await tables.load_table(ctx.session, COMPANIES)
    return await records.by_id_or_name(
        ctx.session,
        table,
        ctx.params.record_id("companyId"),
        ctx.params.get("companyName"),
        COMPANY_KEYS,
    )


async def _contact(ctx: CommandContext, table: TableSchema | None = None) -> Any:
    table = table or await tables.load_table(ctx.session, CONTACTS)
    return await records.by_id_or_name(
        ctx.session,
        table,
        ctx.params.record_id("contactId"),
        ctx.params.get("contactName"),
        CONTACT_KEYS,
    )


async def _one(
    ctx: CommandContext, table: TableSchema, record: Any, **extra: Any
) -> dict[str, Any]:
    return ok(**(await render(ctx.session, table, record)), **extra)


async def _page(
    ctx: CommandContext, table: TableSchema, key: str, conditions: list[Condition]
) -> dict[str, Any]:
    start, size = ctx.params.page()
    records, total = await search.find_records(ctx.session, table, conditions, start, size)
    items = await render_many(ctx.session, table, records)
    return ok(**{key: items}, total=total, startAt=start, maxResults=size)


# -- reading --------------------------------------------------------------------------------


async def get_company(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, COMPANIES)
    return await _one(ctx, table, await _company(ctx, table))


async def get_contact(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, CONTACTS)
    return await _one(ctx, table, await _contact(ctx, table))


async def get_companies(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, COMPANIES)
    return await _page(ctx, table, "companies", [])


async def get_contacts(ctx: CommandContext) -> dict[str, Any]:
    """All contacts, or those of one company (`companyId` / `companyName`)."""
    table = await tables.load_table(ctx.session, CONTACTS)
    conditions: list[Condition] = []
    if ctx.params.get(*COMPANY_KEYS) is not None:
        company = await _company(ctx)
        spec = table.by_code("contact_company")
        assert spec is not None
        conditions.append(Condition(spec, (str(company.number),)))
    return await _page(ctx, table, "contacts", conditions)


async def get_contact_email(ctx: CommandContext) -> dict[str, Any]:
    """A contact's e-mail, the contact given by id, name or Jira login (`contactLogin`)."""
    table = await tables.load_table(ctx.session, CONTACTS)
    login = ctx.params.get("contactLogin", "login")
    if login is not None and ctx.params.get(*CONTACT_KEYS) is None:
        spec = table.by_code("contact_login")
        assert spec is not None
        condition = await search.search_condition(ctx.session, spec, login, "contactLogin")
        found, total = await search.find_records(ctx.session, table, [condition], 0, 10)
        if total == 0:
            raise NotFound(f"No contact with login {login!r}.")
        if total > 1:
            ids = ", ".join(str(r.number) for r in found)
            raise Conflict(f"Several contacts have login {login!r} (ids {ids}).", code="Ambiguous")
        contact = found[0]
    else:
        contact = await _contact(ctx, table)
    return ok(id=str(contact.number), email=str(contact.data.get("contact_email", "")))


# -- companies and contacts -------------------------------------------------------------------


async def add_company(ctx: CommandContext) -> dict[str, Any]:
    table_name = ctx.params.get("tableName")
    if (
        table_name is not None
        and (await tables.load_table(ctx.session, table_name)).code != COMPANIES
    ):
        raise BadRequest(
            "Parameter 'tableName' must be CLIENTS for addcompany.", code="BadParameter"
        )
    table = await tables.load_table(ctx.session, COMPANIES)
    assignments = plan_assignments(table, ctx.params.field_items({"tableName"}))
    name_field = table.name_field
    assert name_field is not None
    name = assignments.get(name_field.code)
    if name is not None and name.text.strip():
        existing = await records.find_by_name(ctx.session, table, name.text)
        if existing:
            ids = ", ".join(str(r.number) for r in existing)
            raise Conflict(
                f"A company named {name.text.strip()!r} already exists (id {ids}).", code="Exists"
            )
    record = await records.write(ctx.session, table, assignments)
    return await _one(ctx, table, record)


async def add_contact(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, CONTACTS)
    assignments = plan_assignments(table, ctx.params.field_items({"tableName"}))
    record = await records.write(ctx.session, table, assignments)
    return await _one(ctx, table, record)


async def set_contact(ctx: CommandContext) -> dict[str, Any]:
    """Put a contact in a company (both by id or by name)."""
    table = await tables.load_table(ctx.session, CONTACTS)
    contact = await _contact(ctx, table)
    company = await _company(ctx)
    spec = table.by_code("contact_company")
    assert spec is not None
    assignment = Assignment(spec, str(company.number), "companyId", view=False)
    record = await records.write(ctx.session, table, {spec.code: assignment}, contact)
    return await _one(ctx, table, record)


async def edit_contact(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, CONTACTS)
    contact = await _contact(ctx, table)
    assignments = plan_assignments(table, ctx.params.field_items(CONTACT_KEYS))
    record = await records.write(ctx.session, table, assignments, contact)
    return await _one(ctx, table, record)


async def edit_company(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, COMPANIES)
    company = await _company(ctx, table)
    assignments = plan_assignments(table, ctx.params.field_items(COMPANY_KEYS))
    record = await records.write(ctx.session, table, assignments, company)
    return await _one(ctx, table, record)


async def delete_company(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, COMPANIES)
    company = await _company(ctx, table)
    await records.delete_record(ctx.session, table, company)
    return ok(id=str(company.number), deleted=True)


# -- dictionaries ---------------------------------------------------------------------------


async def add_dictionary_value(ctx: CommandContext) -> dict[str, Any]:
    dictionary = await dictionaries.get_dictionary(
        ctx.session, ctx.params.require("dictionaryName")
    )
    value = ctx.params.require("newvalue", "newValue", "value")
    added = await dictionaries.add_value(ctx.session, dictionary, value)
    values = await dictionaries.values_of(ctx.session, dictionary)
    return ok(dictionary=dictionary.name, value=value, added=added, values=values)


async def remove_dictionary_value(ctx: CommandContext) -> dict[str, Any]:
    dictionary = await dictionaries.get_dictionary(
        ctx.session, ctx.params.require("dictionaryName")
    )
    value = ctx.params.require("valuetoremove", "value")
    await dictionaries.remove_value(ctx.session, dictionary, value)
    values = await dictionaries.values_of(ctx.session, dictionary)
    return ok(dictionary=dictionary.name, value=value, removed=True, values=values)


# -- generic entities -----------------------------------------------------------------------


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
        conditions.append(await search.search_condition(ctx.session, ref.spec, value, parameter))
    return conditions


async def search_entities(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, ctx.params.require("tableName"))
    conditions = await _pair_conditions(ctx, table, ctx.params.pairs())
    return await _page(ctx, table, "entities", conditions)


async def update_or_create_entity(ctx: CommandContext) -> dict[str, Any]:
    table = await tables.load_table(ctx.session, ctx.params.require("tableName"))
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
    record = await records.get_record(ctx.session, table, record_id) if record_id else None
    written = await records.write(ctx.session, table, assignments, record)
    return await _one(ctx, table, written, created=record is None)


_VAL_PARAM = re.compile(r"(\w+?)Val", re.IGNORECASE)


async def transactions_list(ctx: CommandContext) -> dict[str, Any]:
    """Transactions by `<field>Val` parameters (`saleVal` = the issue key) and crm_param pairs."""
    table = await tables.load_table(ctx.session, TRANSACTIONS)
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
    return await _page(ctx, table, "transactions", conditions)


# -- Jira -----------------------------------------------------------------------------------


async def set_crm_properties(ctx: CommandContext) -> dict[str, Any]:
    """Queue writing the issue's CRM Property field (the worker calls Jira)."""
    issue_key = ctx.params.require("issueKey", "issue", "issueId")
    parts: list[str] = []
    if ctx.params.get(*COMPANY_KEYS) is not None:
        company = await _company(ctx)
        parts.append(f"Company: {company.name} (id {company.number})")
    if ctx.params.get(*CONTACT_KEYS) is not None:
        contact = await _contact(ctx)
        parts.append(f"Contact: {contact.name} (id {contact.number})")
    if not parts:
        raise BadRequest(
            "Parameter 'companyId', 'companyName', 'contactId' or 'contactName' is required.",
            code="MissingParameter",
        )
    value = "; ".join(parts)
    job = await enqueue_set_properties(
        ctx.session, ctx.params.record_id("instanceId"), issue_key, value
    )
    return ok(issueKey=issue_key, value=value, jobId=str(job.id), status="Pending")


COMMANDS: dict[str, Handler] = {
    "getcompanybyname": get_company,
    "getcontactbyname": get_contact,
    "getcompanies": get_companies,
    "getcontacts": get_contacts,
    "getcontactemail": get_contact_email,
    "addcompany": add_company,
    "addcontact": add_contact,
    "setcontact": set_contact,
    "editcontact": edit_contact,
    "editcompany": edit_company,
    "deletecompany": delete_company,
    "adddictionaryvalue": add_dictionary_value,
    "removedictionaryvalue": remove_dictionary_value,
    "searchentities": search_entities,
    "updateorcreateentity": update_or_create_entity,
    "transactionslist": transactions_list,
    "setcrmproperties": set_crm_properties,
}
