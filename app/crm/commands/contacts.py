"""The contact commands: getcontacts, getcontactemail, addcontact, setcontact (a contact into a
company); getcontactbyname and editcontact are the named-record commands of `context`."""

from __future__ import annotations

from typing import Any

from app.core.errors import Conflict, NotFound
from app.crm.commands.context import (
    COMPANY,
    CONTACT,
    CommandContext,
    answer_one,
    answer_page,
    named_record,
    ok,
)
from app.crm.params import Assignment, plan_assignments
from app.crm.records import write
from app.crm.search import Condition, find_records, search_condition
from app.crm.tables import CONTACTS, load_table


async def get_contacts(ctx: CommandContext) -> dict[str, Any]:
    """All contacts, or those of one company (`companyId` / `companyName`)."""
    table = await load_table(ctx.session, CONTACTS)
    conditions: list[Condition] = []
    if ctx.params.get(*COMPANY.keys) is not None:
        company = await named_record(ctx, COMPANY)
        spec = table.by_code("contact_company")
        assert spec is not None
        conditions.append(Condition(spec, (str(company.number),)))
    return await answer_page(ctx, table, "contacts", conditions)


async def get_contact_email(ctx: CommandContext) -> dict[str, Any]:
    """A contact's e-mail, the contact given by id, name or Jira login (`contactLogin`)."""
    table = await load_table(ctx.session, CONTACTS)
    login = ctx.params.get("contactLogin", "login")
    if login is not None and ctx.params.get(*CONTACT.keys) is None:
        spec = table.by_code("contact_login")
        assert spec is not None
        condition = await search_condition(ctx.session, spec, login, "contactLogin")
        found, total = await find_records(ctx.session, table, [condition], 0, 10)
        if total == 0:
            raise NotFound(f"No contact with login {login!r}.")
        if total > 1:
            ids = ", ".join(str(r.number) for r in found)
            raise Conflict(f"Several contacts have login {login!r} (ids {ids}).", code="Ambiguous")
        contact = found[0]
    else:
        contact = await named_record(ctx, CONTACT, table)
    return ok(id=str(contact.number), email=str(contact.data.get("contact_email", "")))


async def add_contact(ctx: CommandContext) -> dict[str, Any]:
    table = await load_table(ctx.session, CONTACTS)
    assignments = plan_assignments(table, ctx.params.field_items({"tableName"}))
    record = await write(ctx.session, table, assignments)
    return await answer_one(ctx, table, record)


async def set_contact(ctx: CommandContext) -> dict[str, Any]:
    """Put a contact in a company (both by id or by name)."""
    table = await load_table(ctx.session, CONTACTS)
    contact = await named_record(ctx, CONTACT, table)
    company = await named_record(ctx, COMPANY)
    spec = table.by_code("contact_company")
    assert spec is not None
    assignment = Assignment(spec, str(company.number), "companyId", view=False)
    record = await write(ctx.session, table, {spec.code: assignment}, contact)
    return await answer_one(ctx, table, record)
