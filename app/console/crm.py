"""The CRM screen: the CRM API key (write-only), users with a rights matrix (a checkbox per
right), dictionaries and their values, tables and their fields, and companies and contacts
with a search by name. Through the same services as `/api/json/Crm/…`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.console.cookies import ConsoleSession
from app.console.deps import DbDep, FormDep, SignedInDep
from app.console.pages import PREFIX, redirect, render
from app.core.errors import ApiError
from app.core.wire import MAX_ID
from app.crm import access, admin, dictionaries, records, tables
from app.crm.answers import render_many
from app.crm.rights import ALL_RIGHTS

router = APIRouter(prefix=f"{PREFIX}/crm", include_in_schema=False)
SEARCH_LIMIT = 50
RECORD_TABLES = {"companies": tables.COMPANIES, "contacts": tables.CONTACTS}
NOTICES = {
    "api-key": "API Key saved.",
    "api-key-cleared": "API Key cleared.",
    "user": "User saved.",
    "user-deleted": "User deleted.",
    "dictionary": "Dictionary added.",
    "dictionary-deleted": "Dictionary deleted.",
}


async def _screen(
    request: Request,
    db: AsyncSession,
    session: ConsoleSession,
    *,
    q: str = "",
    table: str = "companies",
    notice: str | None = None,
    problem: str | None = None,
) -> Response:
    schemas = [await tables.load_table(db, row.code) for row in await admin.list_tables(db)]
    found = await tables.load_table(db, RECORD_TABLES.get(table, tables.COMPANIES))
    rows = await records.search_by_name(db, found, q, SEARCH_LIMIT)
    return render(
        request,
        "crm.html",
        session,
        400 if problem else 200,
        api_key_set=await access.api_key_is_set(db),
        users=await access.list_users(db),
        rights=ALL_RIGHTS,
        dictionaries=[
            (d, await dictionaries.values_of(db, d))
            for d in await dictionaries.list_dictionaries(db)
        ],
        schemas=schemas,
        q=q,
        table=table,
        results=await render_many(db, found, rows),
        result_fields=[spec.name for spec in found.fields if not spec.is_name],
        notice=notice,
        problem=problem,
    )


@router.get("")
async def crm_screen(
    request: Request,
    db: DbDep,
    session: SignedInDep,
    q: Annotated[str, Query(max_length=255)] = "",
    table: Annotated[str, Query(pattern="^(companies|contacts)$")] = "companies",
    notice: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return await _screen(request, db, session, q=q, table=table, notice=NOTICES.get(notice or ""))


async def _refused(
    request: Request, db: AsyncSession, session: ConsoleSession, exc: ApiError
) -> Response:
    await db.rollback()
    return await _screen(request, db, session, problem=exc.message)


@router.post("/api-key")
async def set_api_key(request: Request, db: DbDep, session: SignedInDep, form: FormDep) -> Response:
    key = str(form.get("api_key") or "").strip()
    clear = form.get("clear") is not None
    try:
        await access.set_api_key(db, None if clear else key or None)
    except ApiError as exc:
        return await _refused(request, db, session, exc)
    return redirect(f"{PREFIX}/crm?notice={'api-key-cleared' if clear or not key else 'api-key'}")


@router.post("/users")
async def save_user(request: Request, db: DbDep, session: SignedInDep, form: FormDep) -> Response:
    """Add a user, or replace a user's rights: the checked boxes are the rights."""
    name = str(form.get("user_name") or "")
    rights = [str(right) for right in form.getlist("rights")]
    try:
        await access.put_user(db, name, rights)
    except ApiError as exc:
        return await _refused(request, db, session, exc)
    return redirect(f"{PREFIX}/crm?notice=user#users")


@router.post("/users/delete")
async def delete_user(request: Request, db: DbDep, session: SignedInDep, form: FormDep) -> Response:
    try:
        await access.delete_user(db, str(form.get("user_name") or ""))
    except ApiError as exc:
        return await _refused(request, db, session, exc)
    return redirect(f"{PREFIX}/crm?notice=user-deleted#users")


@router.post("/dictionaries")
async def add_dictionary(
    request: Request, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    name = str(form.get("dictionary_name") or "").strip()
    lines = str(form.get("dictionary_values") or "").splitlines()
    try:
        await dictionaries.create_dictionary(db, name, [v.strip() for v in lines if v.strip()])
    except ApiError as exc:
        return await _refused(request, db, session, exc)
    return redirect(f"{PREFIX}/crm?notice=dictionary#dictionaries")


@router.post("/dictionaries/{dictionary_id}/delete")
async def delete_dictionary(
    request: Request,
    dictionary_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    db: DbDep,
    session: SignedInDep,
    form: FormDep,
) -> Response:
    try:
        found: Any = next(
            (d for d in await dictionaries.list_dictionaries(db) if d.id == dictionary_id), None
        )
        if found is not None:
            await dictionaries.delete_dictionary(db, found)
    except ApiError as exc:
        return await _refused(request, db, session, exc)
    return redirect(f"{PREFIX}/crm?notice=dictionary-deleted#dictionaries")
