"""Decisions about outgoing events, as pure functions: which fields of a ticket changed, which
subscription wants which event, and what a receiver's answer means for the delivery."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from app.core.backoff import BackoffPolicy
from app.outgoing.models import DeliveryStatus

TICKET_UPDATED = "ticket.updated"
ACTION_CREATED = "action.created"
JIRA_LINK_CHANGED = "ticket.jira_link_changed"
PING = "ping"
EVENT_TYPES = (TICKET_UPDATED, ACTION_CREATED, JIRA_LINK_CHANGED, PING)

LINK_FIELDS = ("JiraSyncStatus", "JiraKey", "JiraLinkURL")
# Elements of a ticket answer that are no change of their own: the ticket's identity, its
# timestamps, ids that repeat a name (StatusID beside Status), what follows from another one.
NOT_CHANGES = frozenset(
    {
        "ID",
        "TicketNumber",
        "DateCreated",
        "DateModified",
        "TicketTypeID",
        "StatusID",
        "ProductID",
        "ReportedVersionID",
        "IsClosed",
        "JiraInstanceID",
    }
)


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any

    def as_json(self) -> dict[str, Any]:
        return {"Field": self.field, "From": self.old, "To": self.new}


@dataclass(frozen=True)
class TicketDiff:
    fields: list[Change]  # ticket.updated
    link: list[Change]  # ticket.jira_link_changed


def diff_ticket(before: Mapping[str, Any], after: Mapping[str, Any]) -> TicketDiff:
    """What changed between two answers of one ticket, in the answer's element order. A new
    JiraKey on a link that stayed as it was (the issue moved in Jira) is a change of the
    ticket's fields too."""
    fields: list[Change] = []
    link: list[Change] = []
    names = list(after) + [name for name in before if name not in after]
    for name in names:
        if name in NOT_CHANGES:
            continue
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        (link if name in LINK_FIELDS else fields).append(Change(name, old, new))
    moved = [c for c in link if c.field == "JiraKey" and c.old is not None and c.new is not None]
    if moved and not any(c.field == "JiraSyncStatus" for c in link):
        fields.extend(moved)
    return TicketDiff(fields, link)


def wants(event_types: Sequence[str], event_type: str) -> bool:
    """Whether a subscription takes this event: an empty list takes all (a ping always goes)."""
    return event_type == PING or not event_types or event_type in event_types


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"  # at once: the receiver refused it, retrying cannot help
    GONE = "gone"  # 410: failed, and the subscription is turned off


# Answers worth trying again: the receiver was busy, in conflict or rate-limiting us.
RETRIED_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class Answer:
    """What one attempt came to: an HTTP status, or `error` when there was no answer
    (`refused`: the URL's address is one the service never calls)."""

    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    refused: bool = False


def judge(answer: Answer) -> Verdict:
    if answer.status_code is None:
        return Verdict.FAILED if answer.refused else Verdict.RETRY
    code = answer.status_code
    if 200 <= code < 300:
        return Verdict.DELIVERED
    if code == 410:
        return Verdict.GONE
    if code >= 500 or code in RETRIED_STATUSES:
        return Verdict.RETRY
    return Verdict.FAILED


def retry_delay(
    attempts: int,
    retry_after: float | None,
    now: datetime,
    retry_until: datetime,
    policy: BackoffPolicy,
    draw: Callable[[], float],
) -> float | None:
    """Seconds until the next attempt, or None when it would fall after `retry_until` (the
    delivery has run out of time and fails). A Retry-After longer than the backoff is honoured."""
    delay = policy.delay(attempts, draw)
    if retry_after is not None:
        delay = max(delay, retry_after)
    if now + timedelta(seconds=delay) > retry_until:
        return None
    return delay


@dataclass(frozen=True)
class Attempted:
    """What one attempt's answer makes of a Pending delivery (`after_attempt`): the columns to
    write, and the seconds until the next attempt when there is one."""

    verdict: Verdict
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    delay: float | None


def after_attempt(
    answer: Answer,
    attempts_before: int,
    now: datetime,
    retry_until: datetime,
    policy: BackoffPolicy,
    draw: Callable[[], float],
) -> Attempted:
    """Delivered; tried again after a delay (backoff, or a longer Retry-After) while that falls
    before `retry_until`; else Failed (at once for a refusal or 410 Gone, which also turns the
    subscription off)."""
    verdict = judge(answer)
    attempts = attempts_before + 1
    if verdict is Verdict.DELIVERED:
        return Attempted(verdict, DeliveryStatus.DELIVERED, attempts, None, None, now, None)
    error = describe(answer)
    if verdict is Verdict.RETRY:
        delay = retry_delay(attempts, answer.retry_after, now, retry_until, policy, draw)
        if delay is not None:
            next_at = now + timedelta(seconds=delay)
            return Attempted(verdict, DeliveryStatus.PENDING, attempts, error, next_at, None, delay)
        error = f"Gave up after {attempts} attempts: {error}"
    return Attempted(verdict, DeliveryStatus.FAILED, attempts, error, None, None, None)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds (a number of seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def describe(answer: Answer) -> str:
    """The answer in plain words (the Test answer and the delivery log)."""
    if answer.status_code is None:
        return answer.error or "no answer"
    verdict = judge(answer)
    if verdict is Verdict.DELIVERED:
        return f"The receiver accepted the event (HTTP {answer.status_code})."
    if verdict is Verdict.GONE:
        return "The receiver answered HTTP 410 Gone: it no longer wants events."
    if verdict is Verdict.RETRY:
        return f"The receiver answered HTTP {answer.status_code}; it will be tried again."
    return f"The receiver refused the event (HTTP {answer.status_code})."
