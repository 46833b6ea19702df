"""`events.deliver`: send one event to one subscription, signed, and record what came of it.

Nothing is held open while the receiver answers: the delivery is read in one transaction, sent,
and the outcome written in another. A crash in between sends it again with the same
`webhook-id` (the receiver drops the copy). Retried answers wait with backoff (a Retry-After is
honoured) until the delivery's `retry_until`; other refusals fail it at once; 410 Gone also
turns the subscription off."""

from __future__ import annotations

import random
from typing import Any, Protocol

from sqlalchemy import DateTime, Integer, Row, String, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.backoff import BackoffPolicy, Jitter
from app.core.db import table_of, utcnow
from app.core.logging import get_logger
from app.core.security import SecretBox
from app.jobs.context import WorkerContext
from app.jobs.kinds import Failure, Job, JobError
from app.outgoing.job_kinds import DeliverEvent
from app.outgoing.metrics import EVENT_ATTEMPTS, EVENT_LATENCY, EVENTS_FAILED, EVENTS_SENT
from app.outgoing.models import DeliveryStatus, EventDelivery, EventSubscription
from app.outgoing.rules import Answer, Verdict, after_attempt, describe
from app.outgoing.sender import EventSender

log = get_logger(__name__)


class EventServices(Protocol):
    """What a delivery needs of the worker's long-lived services."""

    @property
    def secrets(self) -> SecretBox: ...

    @property
    def events(self) -> EventSender: ...


EventContext = WorkerContext[Any]


def _services(ctx: EventContext) -> EventServices:
    services: EventServices = ctx.services
    return services


# Built once, bound per job (every event sent runs them): the delivery, while Pending, with
# what sending it needs of its subscription (None there: the subscription is gone).
_DELIVERIES = table_of(EventDelivery)
_SUBSCRIPTIONS = table_of(EventSubscription)
_TO_SEND = (
    select(
        _DELIVERIES.c.attempts,
        _DELIVERIES.c.event_id,
        _DELIVERIES.c.event_type,
        _DELIVERIES.c.body,
        _DELIVERIES.c.subscription_id,
        _DELIVERIES.c.date_created,
        _DELIVERIES.c.retry_until,
        _SUBSCRIPTIONS.c.url,
        _SUBSCRIPTIONS.c.secret_encrypted,
        _SUBSCRIPTIONS.c.active,
    )
    .select_from(
        _DELIVERIES.outerjoin(_SUBSCRIPTIONS, _SUBSCRIPTIONS.c.id == _DELIVERIES.c.subscription_id)
    )
    .where(
        _DELIVERIES.c.id == bindparam("delivery_id", type_=Integer),
        _DELIVERIES.c.status == DeliveryStatus.PENDING,
    )
)
# An outcome is written over the attempt it belongs to only: not once another attempt has
# ended (a job that lost its lease and ran twice) or the delivery is gone.
_RECORD_ATTEMPT = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("delivery_id", type_=Integer),
        _DELIVERIES.c.status == DeliveryStatus.PENDING,
        _DELIVERIES.c.attempts == bindparam("attempts_before", type_=Integer),
    )
    .values(
        status=bindparam("status", type_=String),
        attempts=bindparam("attempts", type_=Integer),
        last_status_code=bindparam("status_code", type_=Integer),
        last_error=bindparam("error", type_=String),
        next_attempt_at=bindparam("next_attempt_at", type_=DateTime(timezone=True)),
        # A replayed delivery keeps the moment it was first delivered until it is again.
        date_delivered=func.coalesce(
            bindparam("delivered_at", type_=DateTime(timezone=True)),
            _DELIVERIES.c.date_delivered,
        ),
    )
)
# A Pending delivery failed without an attempt (it cannot be sent, or its job kept crashing).
_FAIL_PENDING = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("delivery_id", type_=Integer),
        _DELIVERIES.c.status == DeliveryStatus.PENDING,
    )
    .values(
        status=DeliveryStatus.FAILED,
        last_error=bindparam("error", type_=String),
        next_attempt_at=None,
    )
    .returning(_DELIVERIES.c.event_type)
)


async def run_deliver(ctx: EventContext, job: Job[DeliverEvent]) -> None:
    """The job is done in the transaction that writes the delivery's outcome (`finish_in`),
    unless the delivery is to be tried again."""
    services = _services(ctx)
    delivery_id = job.payload.delivery_id
    async with ctx.transaction() as session:
        row = (await session.execute(_TO_SEND, {"delivery_id": delivery_id})).one_or_none()
        if row is None:
            await ctx.finish_in(session, job.id)
            return  # delivered, failed or deleted meanwhile (a job may run again)
        reason = None
        if not row.active:  # None: the subscription is deleted
            reason = "The subscription is inactive or deleted; not sent."
        else:
            try:
                secret = services.secrets.decrypt(row.secret_encrypted)
            except ValueError:
                reason = "The subscription's Secret cannot be decrypted with this SECRET_KEY."
        if reason is not None:
            await _fail(session, delivery_id, reason)
            await ctx.finish_in(session, job.id)
            return
    answer = await services.events.send(row.url, secret, row.event_id, row.body)
    delay = await _record(ctx, job, row, answer)
    if delay is not None:
        raise JobError(describe(answer), transient=True, retry_after=delay)
    log.info("events.delivery.done", delivery=delivery_id, type=row.event_type)


async def on_deliver_failed(ctx: EventContext, job: Job[DeliverEvent], failure: Failure) -> None:
    """The job itself failed (it crashed JOB_MAX_ATTEMPTS times): the delivery says so, and can
    be replayed."""
    async with ctx.transaction() as session:
        await _fail(session, job.payload.delivery_id, failure.message)


async def _fail(session: AsyncSession, delivery_id: int, reason: str) -> None:
    """Fail the delivery, if it is still Pending, with this reason."""
    failed = await session.execute(_FAIL_PENDING, {"delivery_id": delivery_id, "error": reason})
    for event_type in failed.scalars():
        EVENTS_FAILED.labels(event_type).inc()


async def _record(
    ctx: EventContext, job: Job[DeliverEvent], sent: Row[*tuple[Any, ...]], answer: Answer
) -> float | None:
    """Write the attempt's outcome (`after_attempt`); the seconds until the next attempt when
    there is one."""
    settings = ctx.settings
    policy = BackoffPolicy(
        settings.event_retry_base_seconds, settings.event_retry_max_seconds, Jitter.HALF
    )
    now = utcnow()
    outcome = after_attempt(answer, sent.attempts, now, sent.retry_until, policy, random.random)
    async with ctx.transaction() as session:
        written = await session.execute(
            _RECORD_ATTEMPT,
            {
                "delivery_id": job.payload.delivery_id,
                "attempts_before": sent.attempts,
                "status": outcome.status,
                "attempts": outcome.attempts,
                "status_code": answer.status_code,
                "error": outcome.last_error,
                "next_attempt_at": outcome.next_attempt_at,
                "delivered_at": outcome.delivered_at,
            },
        )
        if not getattr(written, "rowcount", 0):  # another attempt ended meanwhile, or deleted
            await ctx.finish_in(session, job.id)
            return None
        EVENT_ATTEMPTS.labels(sent.event_type, outcome.verdict.value).inc()
        if outcome.status is DeliveryStatus.DELIVERED:
            EVENTS_SENT.labels(sent.event_type).inc()
            EVENT_LATENCY.labels(sent.event_type).observe((now - sent.date_created).total_seconds())
        elif outcome.status is DeliveryStatus.FAILED:
            EVENTS_FAILED.labels(sent.event_type).inc()
            if outcome.verdict is Verdict.GONE:
                await _deactivate(sent.subscription_id, session)
        if outcome.delay is None:
            await ctx.finish_in(session, job.id)
        return outcome.delay


async def _deactivate(subscription_id: int, session: AsyncSession) -> None:
    subscription = await session.get(EventSubscription, subscription_id)
    if subscription is not None and subscription.active:
        subscription.active = False
        subscription.inactive_reason = "The receiver answered 410 Gone."
        session.add(subscription)
        log.warning("events.subscription.deactivated", subscription=subscription_id)
