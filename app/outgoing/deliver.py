"""`events.deliver`: send one event to one subscription, signed, and record what came of it.

Nothing is held open while the receiver answers: the delivery is read in one transaction, sent,
and the outcome written in another. A crash in between sends it again with the same
`webhook-id` (the receiver drops the copy). Retried answers wait with backoff (a Retry-After is
honoured) until the delivery's `retry_until`; other refusals fail it at once; 410 Gone also
turns the subscription off."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any, Protocol

from app.core.backoff import BackoffPolicy, Jitter
from app.core.db import utcnow
from app.core.logging import get_logger
from app.core.security import SecretBox
from app.jobs.context import WorkerContext
from app.jobs.kinds import Failure, Job, JobError
from app.outgoing.job_kinds import DeliverEvent
from app.outgoing.metrics import EVENT_ATTEMPTS, EVENT_LATENCY, EVENTS_FAILED, EVENTS_SENT
from app.outgoing.models import DeliveryStatus, EventDelivery, EventSubscription
from app.outgoing.rules import Answer, Verdict, describe, judge, retry_delay
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


async def run_deliver(ctx: EventContext, job: Job[DeliverEvent]) -> None:
    """The job is done in the transaction that writes the delivery's outcome (`finish_in`),
    unless the delivery is to be tried again."""
    services = _services(ctx)
    async with ctx.transaction() as session:
        delivery = await session.get(EventDelivery, job.payload.delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            await ctx.finish_in(session, job.id)
            return  # delivered, failed or deleted meanwhile (a job may run again)
        subscription = await session.get(EventSubscription, delivery.subscription_id)
        if subscription is None or not subscription.active:
            _fail(delivery, "The subscription is inactive or deleted; not sent.")
            session.add(delivery)
            await ctx.finish_in(session, job.id)
            return
        try:
            secret = services.secrets.decrypt(subscription.secret_encrypted)
        except ValueError:
            _fail(delivery, "The subscription's Secret cannot be decrypted with this SECRET_KEY.")
            session.add(delivery)
            await ctx.finish_in(session, job.id)
            return
        url = subscription.url
        event_id, body, event_type = delivery.event_id, delivery.body, delivery.event_type
    answer = await services.events.send(url, secret, event_id, body)
    delay = await _record(ctx, job, answer)
    if delay is not None:
        raise JobError(describe(answer), transient=True, retry_after=delay)
    log.info("events.delivery.done", delivery=job.payload.delivery_id, type=event_type)


def _fail(delivery: EventDelivery, reason: str) -> None:
    delivery.status = DeliveryStatus.FAILED
    delivery.last_error = reason
    delivery.next_attempt_at = None
    EVENTS_FAILED.labels(delivery.event_type).inc()


async def on_deliver_failed(ctx: EventContext, job: Job[DeliverEvent], failure: Failure) -> None:
    """The job itself failed (it crashed JOB_MAX_ATTEMPTS times): the delivery says so, and can
    be replayed."""
    async with ctx.transaction() as session:
        delivery = await session.get(EventDelivery, job.payload.delivery_id)
        if delivery is not None and delivery.status == DeliveryStatus.PENDING:
            _fail(delivery, failure.message)
            session.add(delivery)


async def _record(ctx: EventContext, job: Job[DeliverEvent], answer: Answer) -> float | None:
    """Write the attempt's outcome; the seconds until the next attempt when there is one."""
    verdict = judge(answer)
    settings = ctx.settings
    policy = BackoffPolicy(
        settings.event_retry_base_seconds, settings.event_retry_max_seconds, Jitter.HALF
    )
    now = utcnow()
    async with ctx.transaction() as session:
        delivery = await session.get(EventDelivery, job.payload.delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            await ctx.finish_in(session, job.id)
            return None
        delivery.attempts += 1
        delivery.last_status_code = answer.status_code
        delivery.last_error = None if verdict is Verdict.DELIVERED else describe(answer)
        EVENT_ATTEMPTS.labels(delivery.event_type, verdict.value).inc()
        delay: float | None = None
        if verdict is Verdict.RETRY:
            delay = retry_delay(
                delivery.attempts,
                answer.retry_after,
                now,
                delivery.retry_until,
                policy,
                random.random,
            )
            if delay is None:
                delivery.last_error = (
                    f"Gave up after {delivery.attempts} attempts: {delivery.last_error}"
                )
        if verdict is Verdict.DELIVERED:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.date_delivered = now
            delivery.next_attempt_at = None
            EVENTS_SENT.labels(delivery.event_type).inc()
            EVENT_LATENCY.labels(delivery.event_type).observe(
                (now - delivery.date_created).total_seconds()
            )
        elif delay is not None:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            EVENTS_FAILED.labels(delivery.event_type).inc()
            if verdict is Verdict.GONE:
                await _deactivate(ctx, delivery.subscription_id, session)
        session.add(delivery)
        if delay is None:
            await ctx.finish_in(session, job.id)
        return delay


async def _deactivate(ctx: EventContext, subscription_id: int, session: Any) -> None:
    subscription = await session.get(EventSubscription, subscription_id)
    if subscription is not None and subscription.active:
        subscription.active = False
        subscription.inactive_reason = "The receiver answered 410 Gone."
        session.add(subscription)
        log.warning("events.subscription.deactivated", subscription=subscription_id)
