"""Routers for Tickets, their Actions and History (JSON and XML)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.bodies import documented_body, read_elements, read_model
from app.api.deps import ActorDep, FormatDep, IdPath, SessionDep, SettingsDep
from app.api.formats import Format
from app.api.responses import formatted
from app.api.xml_texts import read_texts
from app.core.errors import BadRequest
from app.core.wire import MAX_ID, IsoDateTime, validate_elements
from app.helpdesk import actions, tickets
from app.helpdesk.catalog import get_or_404
from app.helpdesk.history import list_history
from app.helpdesk.models import Ticket
from app.helpdesk.schemas import (
    ACTION_READ_ONLY,
    TICKET_READ_ONLY,
    ActionInput,
    ActionOut,
    HistoryOut,
    TicketInput,
    TicketOut,
)
from app.integration import ticket_views

router = APIRouter(tags=["Tickets"])
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad input"},
    404: {"description": "Not found"},
}


# A JiraInstanceID says which instance a JiraKey is on: alone it means nothing.
JIRA_INSTANCE_WITH_JIRA_KEY = {"dependentRequired": {"JiraInstanceID": ["JiraKey"]}}


async def _read_ticket(
    request: Request, session: AsyncSession, fmt: Format
) -> tuple[TicketInput, dict[int, Any]]:
    elements = await read_elements(request, fmt, "Ticket")
    builtin, custom = tickets.split_elements(elements, await tickets.all_custom_fields(session))
    if fmt is Format.XML:
        builtin = read_texts(TicketInput, builtin)
        custom = {key: (None if value == "" else value) for key, value in custom.items()}
    data = validate_elements(TicketInput, builtin, TICKET_READ_ONLY)
    if "jira_instance_id" in data.model_fields_set and "jira_key" not in data.model_fields_set:
        raise BadRequest("JiraInstanceID is only taken together with JiraKey.")
    return data, custom


async def _ticket_answer(
    session: AsyncSession, ticket: Ticket, fmt: Format, status_code: int = 200
) -> Response:
    (answer,) = await ticket_views.ticket_views(session, [ticket])
    return formatted({"Ticket": answer}, fmt, status_code)


@router.get("/Tickets", response_model=dict[str, list[TicketOut]], responses=ERRORS)
async def list_tickets(
    session: SessionDep,
    settings: SettingsDep,
    fmt: FormatDep,
    status: Annotated[str | None, Query(alias="Status", max_length=255, pattern=NO_NUL)] = None,
    product_id: Annotated[int | None, Query(alias="ProductID", ge=1, le=MAX_ID)] = None,
    ticket_type_id: Annotated[int | None, Query(alias="TicketTypeID", ge=1, le=MAX_ID)] = None,
    jira_key: Annotated[str | None, Query(alias="JiraKey", max_length=255, pattern=NO_NUL)] = None,
    date_modified_since: Annotated[IsoDateTime | None, Query(alias="DateModifiedSince")] = None,
    page_number: Annotated[int, Query(alias="PageNumber", ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int | None, Query(alias="PageSize", ge=1, le=MAX_ID)] = None,
) -> Response:
    size = min(page_size or settings.page_size_default, settings.page_size_max)
    filters = tickets.TicketFilters(
        status=status,
        product_id=product_id,
        ticket_type_id=ticket_type_id,
        date_modified_since=date_modified_since,
    )
    answers, total = await ticket_views.ticket_page(session, filters, jira_key, page_number, size)
    return formatted(
        {"Tickets": answers}, fmt, headers={"X-Total-Count": str(total), "X-Page-Size": str(size)}
    )


@router.post(
    "/Tickets",
    status_code=201,
    response_model=dict[str, TicketOut],
    responses=ERRORS,
    openapi_extra=documented_body(
        TicketInput,
        "Ticket",
        required=("Name",),
        one_of=("TicketTypeID", "TicketTypeName"),
        rule=JIRA_INSTANCE_WITH_JIRA_KEY,
    ),
)
async def create_ticket(
    request: Request, session: SessionDep, fmt: FormatDep, actor: ActorDep
) -> Response:
    data, custom = await _read_ticket(request, session, fmt)
    ticket = await tickets.create_ticket(session, data, custom, actor)
    return await _ticket_answer(session, ticket, fmt, 201)


@router.get("/Tickets/{ID}", response_model=dict[str, TicketOut], responses=ERRORS)
async def get_ticket(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    return await _ticket_answer(session, await get_or_404(session, Ticket, ID, "Ticket"), fmt)


@router.put(
    "/Tickets/{ID}",
    response_model=dict[str, TicketOut],
    responses=ERRORS,
    openapi_extra=documented_body(TicketInput, "Ticket", rule=JIRA_INSTANCE_WITH_JIRA_KEY),
)
@router.post(
    "/Tickets/{ID}",
    response_model=dict[str, TicketOut],
    responses=ERRORS,
    openapi_extra=documented_body(TicketInput, "Ticket", rule=JIRA_INSTANCE_WITH_JIRA_KEY),
    name="update_ticket_post",
)
async def update_ticket(
    ID: IdPath,
    request: Request,
    session: SessionDep,
    fmt: FormatDep,
    actor: ActorDep,
) -> Response:
    ticket = await get_or_404(session, Ticket, ID, "Ticket")
    data, custom = await _read_ticket(request, session, fmt)
    await tickets.update_ticket(session, ticket, data, custom, actor)
    return await _ticket_answer(session, ticket, fmt)


@router.delete("/Tickets/{ID}", status_code=204, responses=ERRORS)
async def delete_ticket(ID: IdPath, session: SessionDep) -> Response:
    await tickets.delete_ticket(session, await get_or_404(session, Ticket, ID, "Ticket"))
    return Response(status_code=204)


@router.get("/Tickets/{ID}/Actions", response_model=dict[str, list[ActionOut]], responses=ERRORS)
async def list_actions(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    await get_or_404(session, Ticket, ID, "Ticket")
    answers = await actions.action_answers(session, await actions.list_actions(session, ID))
    return formatted({"Actions": [a.model_dump(mode="json", by_alias=True) for a in answers]}, fmt)


@router.post(
    "/Tickets/{ID}/Actions",
    status_code=201,
    response_model=dict[str, ActionOut],
    responses=ERRORS,
    openapi_extra=documented_body(ActionInput, "Action", required=("Description",)),
)
async def create_action(
    ID: IdPath,
    request: Request,
    session: SessionDep,
    fmt: FormatDep,
    actor: ActorDep,
) -> Response:
    ticket = await get_or_404(session, Ticket, ID, "Ticket")
    data = await read_model(request, fmt, ActionInput, "Action", ACTION_READ_ONLY)
    action = await actions.create_action(session, ticket, data, actor)
    (answer,) = await actions.action_answers(session, [action])
    return formatted({"Action": answer.model_dump(mode="json", by_alias=True)}, fmt, 201)


@router.get(
    "/Tickets/{ID}/Actions/{ActionID}", response_model=dict[str, ActionOut], responses=ERRORS
)
async def get_action(
    ID: IdPath,
    ActionID: IdPath,
    session: SessionDep,
    fmt: FormatDep,
) -> Response:
    action = await actions.get_action(session, ID, ActionID)
    (answer,) = await actions.action_answers(session, [action])
    return formatted({"Action": answer.model_dump(mode="json", by_alias=True)}, fmt)


@router.get("/Tickets/{ID}/History", response_model=dict[str, list[HistoryOut]], responses=ERRORS)
async def ticket_history(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    await get_or_404(session, Ticket, ID, "Ticket")
    rows = await list_history(session, ID)
    entries = [
        HistoryOut.model_validate(row, from_attributes=True).model_dump(mode="json", by_alias=True)
        for row in rows
    ]
    return formatted({"History": entries}, fmt)
