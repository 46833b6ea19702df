"""`POST /webhooks/helpdesk`: verify the signature, de-duplicate by event id, apply, answer.

The delivery record and its effects commit together, so an event is applied exactly once
however often it is sent; a bad signature is a 401 and stores nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.deps import SessionDep, SettingsDep
from app.core.errors import Unauthorized
from app.core.security import signature_matches
from app.helpdesk.external_events import receive_event

router = APIRouter(tags=["Helpdesk events"])


@router.post(
    "/webhooks/helpdesk",
    summary="An external helpdesk's event (ticket.upserted, action.created)",
    responses={400: {"description": "Bad event"}, 401: {"description": "Bad signature"}},
)
async def helpdesk_event(
    request: Request, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    body = await request.body()
    if not signature_matches(
        request.headers.get("x-signature"), settings.api_token.get_secret_value(), body
    ):
        raise Unauthorized("X-Signature must be sha256=<HMAC-SHA256 of the body with API_TOKEN>.")
    event_id, outcome = await receive_event(session, body)
    answer: dict[str, Any] = {"status": outcome.status, "id": event_id}
    if outcome.ticket_id is not None:
        answer["TicketID"] = outcome.ticket_id
    if outcome.action_id is not None:
        answer["ActionID"] = outcome.action_id
    return JSONResponse(answer, status_code=202 if outcome.status == "ignored" else 200)
