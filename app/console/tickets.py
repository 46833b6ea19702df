"""Tickets: a list with search (number, name, Jira key) and filters (status, Jira sync status),
paged; a ticket's page with its fields, its Jira box (Link with a key or NewJiraIssue,
Unlink), its actions as a timeline, an Add action form and its History. The Jira box, the
actions and the History are re-read by the page's script, so a link turning Linked or a
comment arriving from Jira shows without a reload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, Response

from app.console.cookies import ConsoleSession
from app.console.deps import DbDep, FormDep, IdPath, SignedInDep
from app.console.jira_forms import field_of
from app.console.pages import PREFIX, fragment, redirect, render
from app.core.errors import ApiError
from app.core.wire import validate_elements
from app.helpdesk import actions, tickets
from app.helpdesk.catalog import (
    ACTION_TYPES,
    PRODUCTS,
    TICKET_STATUSES,
    TICKET_TYPES,
    get_or_404,
    list_items,
)
from app.helpdesk.history import list_history
from app.helpdesk.models import JiraSyncStatus, Ticket
from app.helpdesk.schemas import ActionInput, TicketInput
from app.integration import ticket_views
from app.integration.outbound import link_request

router = APIRouter(prefix=f"{PREFIX}/tickets", include_in_schema=False)
ACTOR = "Console"
PAGE_SIZE = 25
# The ticket fields shown on its page, by their answer element, with their labels.
FIELDS = (
    ("TicketNumber", "Ticket Number"),
    ("TicketTypeName", "Ticket Type"),
    ("Status", "Status"),
    ("ProductName", "Product"),
    ("ReportedVersion", "Reported Version"),
    ("DateCreated", "Date Created"),
    ("DateModified", "Date Modified"),
)
BUILT_IN = {name for name in (*dict(FIELDS), "ID", "Name", "Description", "IsClosed")} | {
    "TicketTypeID",
    "StatusID",
    "ProductID",
    "ReportedVersionID",
    "JiraKey",
    "JiraLinkURL",
    "JiraSyncStatus",
    "JiraInstanceID",
}
Text = Annotated[str | None, Query(max_length=255)]
LIVE = "_ticket_live.html"
NEW_TICKET_FIELDS = {
    "name": "Name",
    "ticket_type_id": "TicketTypeID",
    "product_id": "ProductID",
    "description": "Description",
}


@router.get("")
async def ticket_list(
    request: Request,
    db: DbDep,
    session: SignedInDep,
    q: Text = None,
    status: Text = None,
    jira: Annotated[JiraSyncStatus | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    filters = tickets.TicketFilters(
        status=status or None, search=(q or "").strip() or None, jira_sync_status=jira
    )
    rows, total = await ticket_views.ticket_page(db, filters, None, page, PAGE_SIZE)
    statuses = sorted({s.name for s in await list_items(db, TICKET_STATUSES)})
    return render(
        request,
        "tickets.html",
        session,
        ticket_types=await list_items(db, TICKET_TYPES),
        products=await list_items(db, PRODUCTS),
        errors={},
        values={},
        tickets=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters={"q": q or "", "status": status or "", "jira": jira or ""},
        statuses=statuses,
        jira_statuses=list(JiraSyncStatus),
    )


async def _ticket(db: AsyncSession, ticket_id: int) -> Ticket:
    ticket: Ticket = await get_or_404(db, Ticket, ticket_id, "Ticket")
    return ticket


async def _live(db: AsyncSession, ticket: Ticket) -> dict[str, Any]:
    """What the page's script re-reads: the Jira box, the actions and the History."""
    (answer,) = await ticket_views.ticket_views(db, [ticket])
    in_error = answer["JiraSyncStatus"] == JiraSyncStatus.ERROR
    return {
        "ticket": answer,
        "reason": await ticket_views.last_sync_error(db, ticket.id or 0) if in_error else None,
        "actions": await actions.action_answers(db, await actions.list_actions(db, ticket.id or 0)),
        "history": await list_history(db, ticket.id or 0),
    }


async def _page(
    request: Request,
    db: AsyncSession,
    session: ConsoleSession,
    ticket: Ticket,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    live = await _live(db, ticket)
    custom = {k: v for k, v in live["ticket"].items() if k not in BUILT_IN}
    not_synchronised = None
    if ticket.jira_sync_status == JiraSyncStatus.NONE:  # a linked one keeps its box
        instance = await link_request.instance_for_ticket(db, ticket)
        not_synchronised = await link_request.type_not_synchronised(db, ticket, instance)
    live_html, live_version = fragment(LIVE, **live)
    return render(
        request,
        "ticket.html",
        session,
        400 if errors else 200,
        fields=FIELDS,
        custom=custom,
        not_synchronised=not_synchronised,
        action_types=await list_items(db, ACTION_TYPES),
        errors=errors or {},
        values=values or {},
        notice=notice,
        ticket=live["ticket"],
        live_html=live_html,
        live_version=live_version,
    )


@router.get("/{ticket_id}")
async def ticket_page(
    request: Request,
    ticket_id: IdPath,
    db: DbDep,
    session: SignedInDep,
    notice: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    notices = {"link": "Link requested.", "unlink": "Unlinked.", "action": "Action added."}
    return await _page(
        request, db, session, await _ticket(db, ticket_id), notice=notices.get(notice or "")
    )


@router.get("/{ticket_id}/live")
async def ticket_live(
    request: Request, ticket_id: IdPath, db: DbDep, session: SignedInDep
) -> Response:
    html, version = fragment(LIVE, **await _live(db, await _ticket(db, ticket_id)))
    return HTMLResponse(html, headers={"X-Console-Fragment": "ticket-live", "X-Version": version})


async def _change_link(
    request: Request, ticket_id: int, db: AsyncSession, session: ConsoleSession, key: str
) -> Response:
    ticket = await _ticket(db, ticket_id)
    try:
        data = validate_elements(TicketInput, {"JiraKey": key})
        await tickets.update_ticket(db, ticket, data, {}, ACTOR)
    except ApiError as exc:
        await db.rollback()
        return await _page(
            request,
            db,
            session,
            await _ticket(db, ticket_id),
            errors={"jira_key": exc.message},
            values={"jira_key": key},
        )
    return redirect(f"{PREFIX}/tickets/{ticket_id}?notice={'link' if key else 'unlink'}")


@router.post("/{ticket_id}/link")
async def link(
    request: Request, ticket_id: IdPath, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    key = form.get("jira_key")
    key = key.strip() if isinstance(key, str) else ""
    if not key:
        ticket = await _ticket(db, ticket_id)
        message = "Enter an issue key (e.g. DEMO-12) or NewJiraIssue."
        return await _page(request, db, session, ticket, errors={"jira_key": message})
    return await _change_link(request, ticket_id, db, session, key)


@router.post("/{ticket_id}/unlink")
async def unlink(
    request: Request, ticket_id: IdPath, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    return await _change_link(request, ticket_id, db, session, "")


@router.post("/{ticket_id}/actions")
async def add_action(
    request: Request, ticket_id: IdPath, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    ticket = await _ticket(db, ticket_id)
    elements: dict[str, Any] = {
        "ActionType": str(form.get("action_type") or "") or None,
        "Description": str(form.get("description") or "").strip() or None,
    }
    visible = str(form.get("is_visible_on_portal") or "")
    if visible in ("true", "false"):  # else as its action type says
        elements["IsVisibleOnPortal"] = visible == "true"
    try:
        data = validate_elements(ActionInput, elements)
        await actions.create_action(db, ticket, data, ACTOR)
    except ApiError as exc:
        await db.rollback()
        values = {
            k: str(form.get(k) or "")
            for k in ("action_type", "description", "is_visible_on_portal")
        }
        return await _page(
            request,
            db,
            session,
            await _ticket(db, ticket_id),
            errors={"description": exc.message},
            values=values,
        )
    return redirect(f"{PREFIX}/tickets/{ticket_id}?notice=action")


@router.post("")
async def new_ticket(request: Request, db: DbDep, session: SignedInDep, form: FormDep) -> Response:
    """A ticket from the New ticket form; its page comes next."""
    values = {k: str(form.get(k) or "").strip() for k in NEW_TICKET_FIELDS}
    elements = {
        "Name": values["name"] or None,
        "TicketTypeID": int(values["ticket_type_id"])
        if values["ticket_type_id"].isdigit()
        else None,
        "ProductID": int(values["product_id"]) if values["product_id"].isdigit() else None,
        "Description": values["description"] or None,
    }
    try:
        data = validate_elements(TicketInput, elements)
        ticket = await tickets.create_ticket(db, data, {}, ACTOR)
    except ApiError as exc:
        await db.rollback()
        fields = [(k, e, k) for k, e in NEW_TICKET_FIELDS.items()]
        where = field_of(exc.message, fields) or "name"
        return render(
            request,
            "tickets.html",
            session,
            400,
            ticket_types=await list_items(db, TICKET_TYPES),
            products=await list_items(db, PRODUCTS),
            errors={where: exc.message},
            values=values,
            tickets=[],
            total=0,
            page=1,
            pages=1,
            filters={"q": "", "status": "", "jira": ""},
            statuses=[],
            jira_statuses=list(JiraSyncStatus),
        )
    return redirect(f"{PREFIX}/tickets/{ticket.id}")
