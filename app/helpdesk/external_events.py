"""Events from an external helpdesk (`POST /webhooks/helpdesk`), applied through the same
service functions as the API, keyed by the helpdesk's own ticket and action ids.

Shape (JSON, signed with `X-Signature: sha256=<hex HMAC-SHA256 of the raw body, key API_TOKEN>`):

    {"id": "evt-1", "type": "ticket.upserted",
     "ticket": {"ExternalID": "hd-42", "Name": "…", "TicketTypeName": "…", "JiraKey": "…", …}}
    {"id": "evt-2", "type": "action.created",
     "action": {"ExternalID": "hd-a-7", "TicketExternalID": "hd-42", "ActionType": "Comment",
                "Description": "…", "CreatorName": "…"}}

`ticket` takes every element a ticket POST/PUT takes (custom fields by name, `JiraKey` too). The
event `id` makes a delivery idempotent; ExternalIDs make the effect idempotent across events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.errors import BadRequest
from app.core.wire import unstorable_element, validate_elements
from app.helpdesk import actions, tickets
from app.helpdesk.events import Origin
from app.helpdesk.models import Action, Ticket
from app.helpdesk.schemas import ACTION_READ_ONLY, TICKET_READ_ONLY, ActionInput, TicketInput
from app.inbox.store import store_once

TICKET_UPSERTED = "ticket.upserted"
ACTION_CREATED = "action.created"
ACTOR = "Helpdesk"


SOURCE = "helpdesk"


@dataclass(frozen=True)
class EventOutcome:
    status: str  # applied, ignored, duplicate
    ticket_id: int | None = None
    action_id: int | None = None


async def receive_event(session: AsyncSession, body: bytes) -> tuple[str, EventOutcome]:
    """Store an (authenticated) event once by its id and apply it in the same transaction, so
    it takes effect exactly once however often it is sent; returns its id and what happened."""
    try:
        text = body.decode("utf-8-sig")  # a leading byte order mark is allowed, as in the API
    except UnicodeDecodeError:
        raise BadRequest("The event body is not valid UTF-8.") from None
    if "\x00" in text:  # never in JSON text; UTF-16 or UTF-32 without a byte order mark
        raise BadRequest("The event body is not valid UTF-8: it holds NUL bytes.")
    try:
        event: Any = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"Malformed JSON: {exc}") from exc
    where = unstorable_element(event)
    if where is not None:
        raise BadRequest(f"Element {where!r} contains a NUL character or a lone surrogate.")
    if not isinstance(event, dict) or not isinstance(event.get("id"), str | int):
        raise BadRequest("An event is a JSON object with an id and a type.")
    event_id = str(event["id"]).strip()
    if not event_id or len(event_id) > 255:
        raise BadRequest("The event id must be 1 to 255 characters.")
    delivery = await store_once(
        session,
        source=SOURCE,
        delivery_id=event_id,
        event=str(event.get("type") or "")[:128],
        body=text,
    )
    if delivery is None:
        return event_id, EventOutcome("duplicate")
    outcome = await apply_event(session, event)
    delivery.processed_at = utcnow()
    delivery.outcome = outcome.status
    session.add(delivery)
    return event_id, outcome


def _record(event: dict[str, Any], name: str) -> dict[str, Any]:
    record = event.get(name)
    if not isinstance(record, dict):
        raise BadRequest(f"A {event.get('type')} event needs a {name!r} object.")
    return dict(record)


def _pop_ci(record: dict[str, Any], name: str) -> Any:
    for key in list(record):
        if key.lower() == name.lower():
            return record.pop(key)
    return None


def _external_id(value: Any, what: str) -> str:
    if value is None or not str(value).strip():
        raise BadRequest(f"{what} is required.")
    text = str(value).strip()
    if len(text) > 255:
        raise BadRequest(f"{what} is longer than 255 characters.")
    return text


async def apply_event(session: AsyncSession, event: dict[str, Any]) -> EventOutcome:
    kind = event.get("type")
    if kind == TICKET_UPSERTED:
        return await _ticket_upserted(session, _record(event, "ticket"))
    if kind == ACTION_CREATED:
        return await _action_created(session, _record(event, "action"))
    return EventOutcome("ignored")


async def _ticket_upserted(session: AsyncSession, record: dict[str, Any]) -> EventOutcome:
    external_id = _external_id(_pop_ci(record, "ExternalID"), "ticket.ExternalID")
    for key, value in list(record.items()):
        if isinstance(value, dict):
            raise BadRequest(f"Element {key!r} must be a value, not an object.")
    builtin, custom = tickets.split_elements(record, await tickets.all_custom_fields(session))
    data = validate_elements(TicketInput, builtin, TICKET_READ_ONLY)
    ticket = await session.scalar(select(Ticket).where(col(Ticket.external_id) == external_id))
    if ticket is None:
        ticket = await tickets.create_ticket(session, data, custom, ACTOR, Origin.HELPDESK)
        ticket.external_id = external_id
        session.add(ticket)
        await session.flush()
    else:
        await tickets.update_ticket(session, ticket, data, custom, ACTOR, Origin.HELPDESK)
    return EventOutcome("applied", ticket_id=ticket.id)


async def _action_created(session: AsyncSession, record: dict[str, Any]) -> EventOutcome:
    external_id = _external_id(_pop_ci(record, "ExternalID"), "action.ExternalID")
    ticket_ref = _external_id(_pop_ci(record, "TicketExternalID"), "action.TicketExternalID")
    ticket = await session.scalar(select(Ticket).where(col(Ticket.external_id) == ticket_ref))
    if ticket is None:
        raise BadRequest(
            f"No ticket with ExternalID {ticket_ref!r}; send its ticket.upserted first."
        )
    existing = await session.scalar(select(Action).where(col(Action.external_id) == external_id))
    if existing is not None:
        return EventOutcome("applied", ticket_id=ticket.id, action_id=existing.id)
    data = validate_elements(ActionInput, record, ACTION_READ_ONLY)
    action = await actions.create_action(
        session, ticket, data, ACTOR, external_id=external_id, origin=Origin.HELPDESK
    )
    return EventOutcome("applied", ticket_id=ticket.id, action_id=action.id)
