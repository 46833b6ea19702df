"""Turning domain events into outgoing events, in the transaction of the change: the tickets as
they were and as they are (their API answers) give `ticket.updated` and
`ticket.jira_link_changed` with From/To; new actions give `action.created`. Each event becomes a
delivery row and a `events.deliver` job per subscription that wants it. Changes that came from
the helpdesk's own events are not sent back to it (no echo)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config_cache import kept_while_unchanged
from app.core.db import table_of, utcnow
from app.core.settings import Settings
from app.helpdesk.actions import action_answers
from app.helpdesk.events import ActionCreated, Origin, TicketsChanged, TicketsChanging
from app.helpdesk.models import Action, Ticket
from app.integration.events import JiraActionsAdded
from app.integration.ticket_views import ticket_views
from app.jobs import outbox as jobs
from app.outgoing.job_kinds import DeliverEvent
from app.outgoing.metrics import EVENTS_EMITTED
from app.outgoing.models import DeliveryStatus, EventDelivery, EventSubscription
from app.outgoing.rules import ACTION_CREATED, JIRA_LINK_CHANGED, TICKET_UPDATED, diff_ticket, wants

BEFORE = "outgoing.before"
SUBSCRIPTIONS = "outgoing.subscriptions"


@dataclass(frozen=True)
class EmitOptions:
    """What emitting needs of the settings (given by the composition root)."""

    retry_hours: float = 72.0
    buckets: int = 8

    @classmethod
    def from_settings(cls, settings: Settings) -> EmitOptions:
        return cls(settings.event_retry_hours, settings.event_subscription_concurrency)


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def event_body(event_type: str, data: dict[str, Any]) -> str:
    """The Standard Webhooks body: `type`, `timestamp`, `data`."""
    document = {"type": event_type, "timestamp": utcnow().isoformat(), "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


# Built once: every change to tickets from Jira asks it.
_ACTIVE_SUBSCRIPTIONS = (
    select(col(EventSubscription.id), col(EventSubscription.event_types))
    .where(col(EventSubscription.active).is_(True))
    .order_by(col(EventSubscription.id))
)


@dataclass(frozen=True)
class ActiveSubscription:
    """What choosing an event's subscriptions needs of one (kept between transactions:
    `active_subscriptions`)."""

    id: int
    event_types: tuple[str, ...]


# Built once, on the table: every event is one row per subscription, and an object added to the
# session would cost its flush more than this statement costs.
_DELIVERIES = table_of(EventDelivery)
_INSERT_DELIVERY = insert(_DELIVERIES).returning(_DELIVERIES.c.id)


async def active_subscriptions(session: AsyncSession) -> tuple[ActiveSubscription, ...]:
    """The active subscriptions, kept while the subscriptions are unchanged
    (`core/config_cache.py`; else read once per transaction)."""

    async def read() -> tuple[ActiveSubscription, ...]:
        rows = await session.execute(_ACTIVE_SUBSCRIPTIONS)
        return tuple(ActiveSubscription(row[0] or 0, tuple(row[1])) for row in rows)

    return await kept_while_unchanged(session, SUBSCRIPTIONS, read)


async def emit(
    session: AsyncSession,
    options: EmitOptions,
    event_type: str,
    origin: Origin,
    data: dict[str, Any],
    ticket_id: int | None,
) -> None:
    """Queue one event for every active subscription that wants it: a delivery row and its job
    each, written from plain values (an `EventDelivery` built and dumped for each cost more than
    its insert)."""
    chosen = [s for s in await active_subscriptions(session) if wants(s.event_types, event_type)]
    if not chosen:
        return
    event_id = new_event_id()
    body = event_body(event_type, {**data, "origin": origin.value})
    now = utcnow()
    for subscription in chosen:
        row = {
            "subscription_id": subscription.id,
            "event_id": event_id,
            "event_type": event_type,
            "origin": origin.value,
            "ticket_id": ticket_id,
            "body": body,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "date_created": now,
            "next_attempt_at": now,
            "retry_until": now + timedelta(hours=options.retry_hours),
        }
        delivery_id = (await session.execute(_INSERT_DELIVERY, row)).scalar_one()
        job = DeliverEvent(
            delivery_id=delivery_id,
            subscription_id=subscription.id,
            ticket_id=ticket_id,
            buckets=options.buckets,
        )
        await jobs.enqueue(session, job)
    EVENTS_EMITTED.labels(event_type).inc(len(chosen))


def delivery_job(delivery: EventDelivery, buckets: int) -> DeliverEvent:
    return DeliverEvent(
        delivery_id=delivery.id or 0,
        subscription_id=delivery.subscription_id,
        ticket_id=delivery.ticket_id,
        buckets=buckets,
    )


def _ticket_names(ticket: Ticket) -> dict[str, Any]:
    return {
        "TicketID": ticket.id,
        "TicketNumber": ticket.ticket_number,
        "ExternalID": ticket.external_id,
    }


# Built once, bound per call: every change that sends an event reads its tickets twice.
_TICKETS = (
    select(Ticket)
    .where(col(Ticket.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(Ticket.id))
    .execution_options(populate_existing=True)
)


async def _tickets(session: AsyncSession, ids: Sequence[int]) -> list[Ticket]:
    """The tickets as the database has them now (set-based writes bypass loaded objects)."""
    return list((await session.scalars(_TICKETS, {"ids": list(ids)})).all())


class Emitter:
    """The subscribers of the domain events outgoing events come from."""

    def __init__(self, options: EmitOptions) -> None:
        self.options = options

    async def on_tickets_changing(self, session: AsyncSession, event: TicketsChanging) -> None:
        await remember_before(session, event)

    async def on_tickets_changed(self, session: AsyncSession, event: TicketsChanged) -> None:
        await emit_ticket_changes(session, self.options, event)

    async def on_action_created(self, session: AsyncSession, event: ActionCreated) -> None:
        if event.origin is Origin.HELPDESK or not await active_subscriptions(session):
            return
        action = await session.get(Action, event.action_id)
        if action is not None:
            await emit_actions(session, self.options, [action], event.origin)

    async def on_jira_actions_added(self, session: AsyncSession, event: JiraActionsAdded) -> None:
        if not await active_subscriptions(session):
            return
        rows = await session.scalars(
            select(Action)
            .where(col(Action.id).in_(list(event.action_ids)))
            .order_by(col(Action.id))
        )
        await emit_actions(session, self.options, list(rows.all()), Origin.JIRA)


async def remember_before(session: AsyncSession, event: TicketsChanging) -> None:
    scope = event.scope
    if scope.origin is Origin.HELPDESK or not await active_subscriptions(session):
        return
    await session.flush()
    rows = await _tickets(session, scope.ticket_ids)
    views = await ticket_views(session, rows)
    scope.notes[BEFORE] = {row.id: view for row, view in zip(rows, views, strict=True)}


async def emit_ticket_changes(
    session: AsyncSession, options: EmitOptions, event: TicketsChanged
) -> None:
    scope = event.scope
    before: dict[int, dict[str, Any]] | None = scope.notes.pop(BEFORE, None)
    if before is None:
        return
    await session.flush()
    rows = await _tickets(session, scope.ticket_ids)
    views = await ticket_views(session, rows)
    for row, after in zip(rows, views, strict=True):
        was = before.get(row.id or 0)
        if was is None:
            continue
        diff = diff_ticket(was, after)
        names = _ticket_names(row)
        if diff.fields:
            changes = [c.as_json() for c in diff.fields]
            data = {**names, "changes": changes, "Ticket": after}
            await emit(session, options, TICKET_UPDATED, scope.origin, data, row.id)
        if diff.link:
            changes = [c.as_json() for c in diff.link]
            data = {**names, "changes": changes, "Reason": scope.reason, "Ticket": after}
            await emit(session, options, JIRA_LINK_CHANGED, scope.origin, data, row.id)


async def emit_actions(
    session: AsyncSession, options: EmitOptions, actions: Sequence[Action], origin: Origin
) -> None:
    await session.flush()
    tickets = {t.id: t for t in await _tickets(session, list({a.ticket_id for a in actions}))}
    for answer in await action_answers(session, actions):
        ticket = tickets.get(answer.ticket_id)
        if ticket is None:
            continue
        data = {**_ticket_names(ticket), "Action": answer.model_dump(mode="json", by_alias=True)}
        await emit(session, options, ACTION_CREATED, origin, data, ticket.id)
