"""The outgoing events' decisions, as tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.backoff import BackoffPolicy
from app.outgoing.job_kinds import delivery_ordering_key
from app.outgoing.models import DeliveryStatus
from app.outgoing.rules import (
    Answer,
    Attempted,
    Change,
    Verdict,
    after_attempt,
    diff_ticket,
    judge,
    parse_retry_after,
    retry_delay,
    wants,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TICKET = {
    "ID": 1,
    "TicketNumber": 7,
    "Name": "Printer",
    "Status": "Open",
    "StatusID": 3,
    "IsClosed": False,
    "DateModified": "2026-11-30T10:00:00",
    "JiraKey": None,
    "JiraSyncStatus": "None",
    "JiraLinkURL": None,
    "Severity": None,
}


@pytest.mark.parametrize(
    ("after", "fields", "link"),
    [
        ({}, [], []),
        ({"DateModified": "later", "StatusID": 4, "IsClosed": True}, [], []),
        ({"Status": "Closed", "StatusID": 4}, [Change("Status", "Open", "Closed")], []),
        ({"Severity": "High"}, [Change("Severity", None, "High")], []),
        (
            {"JiraSyncStatus": "Pending", "JiraKey": "DEMO-1"},
            [],
            [Change("JiraKey", None, "DEMO-1"), Change("JiraSyncStatus", "None", "Pending")],
        ),
        (
            {"JiraKey": "SUP-7", "JiraLinkURL": "https://j/browse/SUP-7"},
            [],
            [
                Change("JiraKey", None, "SUP-7"),
                Change("JiraLinkURL", None, "https://j/browse/SUP-7"),
            ],
        ),
        (
            {"Name": "Fax", "JiraLinkURL": "https://j/browse/X-1"},
            [Change("Name", "Printer", "Fax")],
            [Change("JiraLinkURL", None, "https://j/browse/X-1")],
        ),
    ],
)
def test_diff_ticket(after: dict[str, Any], fields: list[Change], link: list[Change]) -> None:
    diff = diff_ticket(TICKET, {**TICKET, **after})
    assert (diff.fields, diff.link) == (fields, link)


def test_a_moved_issue_is_a_field_change_and_a_link_change() -> None:
    linked = {**TICKET, "JiraKey": "DEMO-1", "JiraSyncStatus": "Linked"}
    diff = diff_ticket(linked, {**linked, "JiraKey": "SUP-7"})
    assert diff.fields == diff.link == [Change("JiraKey", "DEMO-1", "SUP-7")]
    requested = diff_ticket(linked, {**linked, "JiraKey": "X-2", "JiraSyncStatus": "Pending"})
    assert requested.fields == []


def test_a_field_gone_from_the_answer_is_a_change_to_none() -> None:
    before = {**TICKET, "Old field": "x"}
    assert diff_ticket(before, TICKET).fields == [Change("Old field", "x", None)]


@pytest.mark.parametrize(
    ("chosen", "event_type", "wanted"),
    [
        ([], "ticket.updated", True),
        (["action.created"], "ticket.updated", False),
        (["action.created"], "action.created", True),
        (["action.created"], "ping", True),
    ],
)
def test_wants(chosen: list[str], event_type: str, wanted: bool) -> None:
    assert wants(chosen, event_type) is wanted


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (Answer(200), Verdict.DELIVERED),
        (Answer(204), Verdict.DELIVERED),
        (Answer(299), Verdict.DELIVERED),
        (Answer(500), Verdict.RETRY),
        (Answer(503), Verdict.RETRY),
        (Answer(408), Verdict.RETRY),
        (Answer(409), Verdict.RETRY),
        (Answer(429), Verdict.RETRY),
        (Answer(error="timed out"), Verdict.RETRY),
        (Answer(error="refused", refused=True), Verdict.FAILED),
        (Answer(400), Verdict.FAILED),
        (Answer(401), Verdict.FAILED),
        (Answer(404), Verdict.FAILED),
        (Answer(302), Verdict.FAILED),  # redirects are not followed
        (Answer(410), Verdict.GONE),
    ],
)
def test_judge(answer: Answer, verdict: Verdict) -> None:
    assert judge(answer) is verdict


POLICY = BackoffPolicy(1.0, 3600.0)


@pytest.mark.parametrize(
    ("attempts", "retry_after", "until", "delay"),
    [
        (1, None, NOW + timedelta(hours=72), 1.0),
        (4, None, NOW + timedelta(hours=72), 8.0),
        (40, None, NOW + timedelta(hours=72), 3600.0),
        (1, 120.0, NOW + timedelta(hours=72), 120.0),  # Retry-After honoured
        (4, 2.0, NOW + timedelta(hours=72), 8.0),  # never sooner than the backoff
        (4, None, NOW + timedelta(seconds=5), None),  # out of time: Failed
        (1, 7200.0, NOW + timedelta(hours=1), None),
    ],
)
def test_retry_delay(
    attempts: int, retry_after: float | None, until: datetime, delay: float | None
) -> None:
    assert retry_delay(attempts, retry_after, NOW, until, POLICY, lambda: 0.5) == delay


LATER = NOW + timedelta(hours=72)


@pytest.mark.parametrize(
    ("answer", "attempts_before", "until", "expected"),
    [
        (
            Answer(status_code=204),
            0,
            LATER,
            Attempted(Verdict.DELIVERED, DeliveryStatus.DELIVERED, 1, None, None, NOW, None),
        ),
        (
            Answer(status_code=503),
            3,
            LATER,
            Attempted(
                Verdict.RETRY,
                DeliveryStatus.PENDING,
                4,
                "The receiver answered HTTP 503; it will be tried again.",
                NOW + timedelta(seconds=8),
                None,
                8.0,
            ),
        ),
        (
            Answer(status_code=429, retry_after=120.0),
            0,
            LATER,
            Attempted(
                Verdict.RETRY,
                DeliveryStatus.PENDING,
                1,
                "The receiver answered HTTP 429; it will be tried again.",
                NOW + timedelta(seconds=120),
                None,
                120.0,
            ),
        ),
        (  # out of time: Failed, and why
            Answer(error="The receiver did not answer in time."),
            3,
            NOW + timedelta(seconds=5),
            Attempted(
                Verdict.RETRY,
                DeliveryStatus.FAILED,
                4,
                "Gave up after 4 attempts: The receiver did not answer in time.",
                None,
                None,
                None,
            ),
        ),
        (
            Answer(status_code=400),
            0,
            LATER,
            Attempted(
                Verdict.FAILED,
                DeliveryStatus.FAILED,
                1,
                "The receiver refused the event (HTTP 400).",
                None,
                None,
                None,
            ),
        ),
        (
            Answer(status_code=410),
            1,
            LATER,
            Attempted(
                Verdict.GONE,
                DeliveryStatus.FAILED,
                2,
                "The receiver answered HTTP 410 Gone: it no longer wants events.",
                None,
                None,
                None,
            ),
        ),
    ],
)
def test_after_attempt(
    answer: Answer, attempts_before: int, until: datetime, expected: Attempted
) -> None:
    assert after_attempt(answer, attempts_before, NOW, until, POLICY, lambda: 0.5) == expected


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("30", 30.0),
        ("Mon, 30 Nov 2026 12:01:00 GMT", 60.0),
        ("Mon, 30 Nov 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


@pytest.mark.parametrize(
    ("subscription", "ticket", "buckets", "key"),
    [
        (1, None, 4, None),
        (1, 5, 4, "events:1:1"),
        (1, 9, 4, "events:1:1"),  # same bucket: one at a time
        (2, 5, 4, "events:2:1"),  # another subscription never waits for this one
        (1, 5, 1, "events:1:0"),
    ],
)
def test_delivery_ordering_key(
    subscription: int, ticket: int | None, buckets: int, key: str | None
) -> None:
    assert delivery_ordering_key(subscription, ticket, buckets) == key
