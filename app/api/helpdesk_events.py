"""`POST /webhooks/helpdesk`: verify the signature, de-duplicate by event id, apply, answer.

The delivery record and its effects commit together, so an event is applied exactly once
however often it is sent; a bad signature is a 401 and stores nothing.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.api.deps import SessionDep, SettingsDep
from app.core.db import utcnow
from app.core.errors import BadRequest, Unauthorized
from app.core.security import signature_matches
from app.helpdesk.external_events import apply_event
from app.integration.models import WebhookDelivery

router = APIRouter(tags=["Helpdesk events"])
SOURCE = "helpdesk"


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
    try:
        event: Any = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"Malformed JSON: {exc}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str | int):
        raise BadRequest("An event is a JSON object with an id and a type.")
    event_id = str(event["id"]).strip()
    if not event_id or len(event_id) > 255:
        raise BadRequest("The event id must be 1 to 255 characters.")
    seen = await session.scalar(
        select(col(WebhookDelivery.id)).where(
            col(WebhookDelivery.source) == SOURCE, col(WebhookDelivery.delivery_id) == event_id
        )
    )
    if seen is not None:
        return JSONResponse({"status": "duplicate", "id": event_id})
    delivery = WebhookDelivery(
        source=SOURCE,
        delivery_id=event_id,
        event=str(event.get("type") or "")[:128],
        body=body.decode("utf-8", errors="replace"),
    )
    try:
        async with session.begin_nested():
            session.add(delivery)
            await session.flush()
    except IntegrityError:
        return JSONResponse({"status": "duplicate", "id": event_id})  # a concurrent delivery
    outcome = await apply_event(session, event)
    delivery.processed_at = utcnow()
    delivery.outcome = outcome.status
    session.add(delivery)
    answer: dict[str, Any] = {"status": outcome.status, "id": event_id}
    if outcome.ticket_id is not None:
        answer["TicketID"] = outcome.ticket_id
    if outcome.action_id is not None:
        answer["ActionID"] = outcome.action_id
    return JSONResponse(answer, status_code=202 if outcome.status == "ignored" else 200)
