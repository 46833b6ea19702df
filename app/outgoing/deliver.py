"""`events.deliver`: send one event to one subscription, signed, and record what came of it.

Nothing is held open while the receiver answers: the delivery is read in one transaction, sent,
and the outcome written in another. A crash in between sends it again with the same
`webhook-id` (the receiver drops the copy). The events queued together for one subscription's
ticket bucket (a burst, or a backlog) are sent by one job, in order (`run_deliver`). Retried
answers wait with backoff (a Retry-After is honoured) until the delivery's `retry_until`; other
refusals fail it at once; 410 Gone also turns the subscription off."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import DateTime, Integer, Row, String, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.backoff import BackoffPolicy, Jitter
from app.core.db import table_of, utcnow
from app.core.logging import get_logger
from app.core.security import SecretBox
from app.jobs import behind
from app.jobs.context import WorkerContext
from app.jobs.kinds import Failure, Job, JobError
from app.jobs.last_write import LastWrite
from app.outgoing.job_kinds import DeliverEvent
from app.outgoing.metrics import EVENT_ATTEMPTS, EVENT_LATENCY, EVENTS_FAILED, EVENTS_SENT
from app.outgoing.models import DeliveryStatus, EventDelivery, EventSubscription
from app.outgoing.rules import Answer, Attempted, Verdict, after_attempt, describe
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
        _DELIVERIES.c.id,
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
        _DELIVERIES.c.id.in_(bindparam("delivery_ids", expanding=True)),
        _DELIVERIES.c.status == DeliveryStatus.PENDING,
    )
)
# The usual job's first read: its delivery (as `_TO_SEND`), and whether a job is queued behind
# it; one statement of its own, in no transaction (`WorkerContext.one_statement`).
_TO_SEND_ALONE = _TO_SEND.add_columns(behind.anything_queued_behind().label("behind"))
# An outcome is written over the attempt it belongs to only: not once another attempt has
# ended (a job that lost its lease and ran twice) or the delivery is gone (no row returned).
_RECORD_ATTEMPT = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("delivery_id", type_=Integer),
        _DELIVERIES.c.status == DeliveryStatus.PENDING,
        _DELIVERIES.c.attempts == bindparam("attempts_before", type_=Integer),
    )
    .values(
        status=bindparam("outcome", type_=String),
        attempts=bindparam("attempts_after", type_=Integer),
        last_status_code=bindparam("status_code", type_=Integer),
        last_error=bindparam("error", type_=String),
        next_attempt_at=bindparam("next_attempt_at", type_=DateTime(timezone=True)),
        # A replayed delivery keeps the moment it was first delivered until it is again.
        date_delivered=func.coalesce(
            bindparam("delivered_at", type_=DateTime(timezone=True)),
            _DELIVERIES.c.date_delivered,
        ),
    )
    .returning(_DELIVERIES.c.id)
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


# At most this many events for one subscription and ticket bucket, queued together (a burst, or
# a backlog), are sent by one job: one after the other, in order, each as its own job would send
# it; the claim, the read and the transaction of their outcomes are made once for all of them.
SEND_TOGETHER = 16


@dataclass(frozen=True, slots=True)
class Ready:
    """A delivery read Pending, with its subscription's secret: to send."""

    send: Job[DeliverEvent]
    row: Row[*tuple[Any, ...]]
    secret: str


@dataclass(frozen=True, slots=True)
class Sent:
    ready: Ready
    answer: Answer
    outcome: Attempted


async def run_deliver(ctx: EventContext, job: Job[DeliverEvent]) -> None:
    """The event, and those queued right behind it for the same subscription and ticket bucket
    (at most SEND_TOGETHER in all), each sent as its own job would send it, in order; the jobs
    done in the transaction that writes their outcomes (`finish_in`). One to be tried again ends
    the run: it waits for its next attempt (the job's own: the job is retried; a taken one:
    queued again with its delay), and those after it are queued again untried, behind it."""
    taken: list[Job[DeliverEvent]] = []
    ready = await _ready_alone(ctx, job)
    if ready is None:
        async with ctx.transaction() as session:
            taken = await ctx.take_behind(session, job, SEND_TOGETHER - 1)
            ready = await _ready(session, _services(ctx).secrets, [job, *taken])
            if not ready:
                await ctx.finish_in(session, job.id, taken)
                return
    sent: list[Sent] = []
    crash: Exception | None = None
    try:
        await _send_in_order(ctx, ready, sent)
    except Exception as exc:  # a bug: what was sent is still recorded, the rest queued again
        crash = exc
    stop_at = len(sent)  # the one that crashed, or none: every one was sent
    if crash is None and sent[-1].outcome.delay is not None:
        stop_at -= 1  # the last answer asks for another attempt
    stopped = ready[stop_at] if stop_at < len(ready) else None
    await _record(ctx, job, taken, sent, stopped, ready[stop_at + 1 :], crash)
    if crash is not None and stopped is not None and stopped.send is not job:
        log.error("events.delivery.crashed", delivery=stopped.row.id, exc_info=crash)
    if stopped is not None and stopped.send is job:
        if crash is not None:
            raise crash
        last = sent[-1]
        raise JobError(describe(last.answer), transient=True, retry_after=last.outcome.delay)


async def _ready_alone(ctx: EventContext, job: Job[DeliverEvent]) -> list[Ready] | None:
    """The job's delivery, ready to send, when it is all the job has to do (nothing queued
    behind it) and nothing is to be written first: read in one statement. None otherwise
    (not Pending, its subscription off or its secret unreadable, or jobs wait behind it): the
    transaction of `run_deliver` reads it again and decides."""
    bound = {"delivery_ids": [job.payload.delivery_id], **behind.asked_behind(job)}
    async with ctx.one_statement() as session:
        row = (await session.execute(_TO_SEND_ALONE, bound)).first()
    if row is None or row.behind:
        return None
    try:
        return [Ready(job, row, _secret(row, _services(ctx).secrets))]
    except NotSendable:
        return None


async def _ready(
    session: AsyncSession, secrets: SecretBox, sends: list[Job[DeliverEvent]]
) -> list[Ready]:
    """The deliveries still Pending, in order, with their secrets; one that cannot be sent (its
    subscription off or deleted, its secret unreadable) failed, and one no longer Pending
    (delivered, failed or deleted meanwhile: a job may run again) left out."""
    ids = [send.payload.delivery_id for send in sends]
    rows = {row.id: row for row in await session.execute(_TO_SEND, {"delivery_ids": ids})}
    ready: list[Ready] = []
    for send in sends:
        row = rows.get(send.payload.delivery_id)
        if row is None:
            continue
        try:
            ready.append(Ready(send, row, _secret(row, secrets)))
        except NotSendable as exc:
            await _fail(session, row.id, exc.reason)
    return ready


class NotSendable(Exception):
    """A Pending delivery that cannot be sent, and why (it is failed with that reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _secret(row: Row[*tuple[Any, ...]], secrets: SecretBox) -> str:
    """The secret to sign the delivery with; NotSendable when its subscription is off or
    deleted (`active` None), or its secret cannot be read with this SECRET_KEY."""
    if not row.active:
        raise NotSendable("The subscription is inactive or deleted; not sent.")
    try:
        return secrets.decrypt(row.secret_encrypted)
    except ValueError:
        raise NotSendable(
            "The subscription's Secret cannot be decrypted with this SECRET_KEY."
        ) from None


async def _send_in_order(ctx: EventContext, ready: list[Ready], sent: list[Sent]) -> None:
    """Send one after the other into `sent`, until one is to be tried again."""
    settings = ctx.settings
    policy = BackoffPolicy(
        settings.event_retry_base_seconds, settings.event_retry_max_seconds, Jitter.HALF
    )
    events = _services(ctx).events
    for one in ready:
        row = one.row
        answer = await events.send(row.url, one.secret, row.event_id, row.body)
        outcome = after_attempt(
            answer, row.attempts, utcnow(), row.retry_until, policy, random.random
        )
        sent.append(Sent(one, answer, outcome))
        if outcome.delay is not None:
            return


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
    ctx: EventContext,
    job: Job[DeliverEvent],
    taken: list[Job[DeliverEvent]],
    sent: list[Sent],
    stopped: Ready | None,
    untried: list[Ready],
    crash: Exception | None,
) -> None:
    """In one transaction: each attempt's outcome (`after_attempt`), the jobs done, and those
    not done queued again: when the job's own delivery is to be tried again, every job it took
    (the job is retried, they run on their own behind it); when a taken one is, it with its
    delay (or at once after a crash) and those after it untried. The usual job's one outcome
    and its being done are one statement (`write_and_finish`)."""
    if not taken and stopped is None and sent[0].outcome.verdict is not Verdict.GONE:
        (one,) = sent
        if await ctx.write_and_finish(job.id, LastWrite(_RECORD_ATTEMPT, _attempt(one))):
            _count(one)
        return
    async with ctx.transaction() as session:
        for one in sent:
            await _record_attempt(session, one)
        if stopped is not None and stopped.send is job:
            await ctx.release_taken(session, taken)
            return
        if stopped is not None:
            last = sent[-1] if crash is None else None
            await ctx.release_taken(
                session,
                [one.send for one in untried],
                stopped.send,
                error=describe(last.answer) if last else f"{type(crash).__name__}: {crash}",
                retry_after=(last.outcome.delay or 0.0) if last else 0.0,
            )
        held = {one.send.id for one in untried} | ({stopped.send.id} if stopped else set())
        await ctx.finish_in(session, job.id, [one for one in taken if one.id not in held])


async def _record_attempt(session: AsyncSession, one: Sent) -> None:
    """One attempt's outcome, written over the attempt it belongs to only (else another attempt
    ended meanwhile, or the delivery is gone: nothing to write)."""
    if (await session.execute(_RECORD_ATTEMPT, _attempt(one))).first() is None:
        return
    _count(one)
    if one.outcome.verdict is Verdict.GONE:
        await _deactivate(one.ready.row.subscription_id, session)


def _attempt(one: Sent) -> dict[str, Any]:
    """`_RECORD_ATTEMPT`'s parameters for one attempt's outcome."""
    row, outcome = one.ready.row, one.outcome
    return {
        "delivery_id": row.id,
        "attempts_before": row.attempts,
        "outcome": outcome.status,
        "attempts_after": outcome.attempts,
        "status_code": one.answer.status_code,
        "error": outcome.last_error,
        "next_attempt_at": outcome.next_attempt_at,
        "delivered_at": outcome.delivered_at,
    }


def _count(one: Sent) -> None:
    """The metrics and the log line of an attempt's outcome, once it is written."""
    row, outcome = one.ready.row, one.outcome
    EVENT_ATTEMPTS.labels(row.event_type, outcome.verdict.value).inc()
    if outcome.status is DeliveryStatus.DELIVERED:
        EVENTS_SENT.labels(row.event_type).inc()
        EVENT_LATENCY.labels(row.event_type).observe((utcnow() - row.date_created).total_seconds())
        log.info("events.delivery.done", delivery=row.id, type=row.event_type)
    elif outcome.status is DeliveryStatus.FAILED:
        EVENTS_FAILED.labels(row.event_type).inc()


async def _deactivate(subscription_id: int, session: AsyncSession) -> None:
    subscription = await session.get(EventSubscription, subscription_id)
    if subscription is not None and subscription.active:
        subscription.active = False
        subscription.inactive_reason = "The receiver answered 410 Gone."
        session.add(subscription)
        log.warning("events.subscription.deactivated", subscription=subscription_id)
