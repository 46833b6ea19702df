from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.jira.pacing import (
    IssueWritePacer,
    QuotaGate,
    QuotaPause,
    RateLimitKind,
    RetryPolicy,
    parse_retry_after,
    rate_limit_kind,
)

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


class TestFullJitter:
    @pytest.mark.parametrize(
        ("attempt", "base", "cap", "random", "expected"),
        [
            (0, 0.5, 30.0, 1.0, 0.5),
            (1, 0.5, 30.0, 1.0, 1.0),
            (3, 0.5, 30.0, 1.0, 4.0),
            (10, 0.5, 30.0, 1.0, 30.0),
            (500, 0.5, 30.0, 1.0, 30.0),
            (3, 0.5, 30.0, 0.25, 1.0),
            (2, 0.5, 30.0, 0.0, 0.0),
        ],
    )
    def test_delay(
        self, attempt: int, base: float, cap: float, random: float, expected: float
    ) -> None:
        policy = RetryPolicy(backoff_base=base, backoff_cap=cap)
        assert policy.backoff(attempt, lambda: random) == expected

    def test_rate_limit_backoff_starts_higher(self) -> None:
        policy = RetryPolicy(backoff_base=0.5, rate_limit_base=2.0)
        assert policy.backoff(0, lambda: 1.0) == 0.5
        assert policy.rate_limit_backoff(0, lambda: 1.0) == 2.0


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("7", 7.0),
            (" 1.5 ", 1.5),
            ("0", 0.0),
            ("-3", 0.0),
            ("Mon, 23 Nov 2026 12:00:10 GMT", 10.0),
            ("Mon, 23 Nov 2026 11:59:00 GMT", 0.0),
            (None, None),
            ("", None),
            ("soon", None),
            ("nan", None),
            ("inf", None),
        ],
    )
    def test_parse(self, header: str | None, expected: float | None) -> None:
        assert parse_retry_after(header, now=NOW) == expected


class TestIssueWritePacer:
    def test_burst_passes_then_one_per_interval(self) -> None:
        pacer = IssueWritePacer(burst=3, rate=2.0)
        waits = [pacer.reserve("ABC-1", now=0.0) for _ in range(5)]
        assert waits == [0.0, 0.0, 0.0, 0.5, 1.0]

    def test_issues_are_independent(self) -> None:
        pacer = IssueWritePacer(burst=1, rate=1.0)
        assert pacer.reserve("ABC-1", now=0.0) == 0.0
        assert pacer.reserve("ABC-1", now=0.0) == 1.0
        assert pacer.reserve("ABC-2", now=0.0) == 0.0

    def test_bucket_refills_over_time(self) -> None:
        pacer = IssueWritePacer(burst=2, rate=1.0)
        for _ in range(2):
            pacer.reserve("ABC-1", now=0.0)
        assert pacer.reserve("ABC-1", now=0.5) == pytest.approx(0.5)
        assert pacer.reserve("ABC-1", now=10.0) == 0.0

    def test_penalty_holds_back_the_next_write(self) -> None:
        pacer = IssueWritePacer(burst=10, rate=5.0)
        pacer.penalize("ABC-1", 3.0, now=0.0)
        assert pacer.reserve("ABC-1", now=0.0) == pytest.approx(3.0)
        assert pacer.reserve("ABC-1", now=0.0) == pytest.approx(3.2)
        assert pacer.reserve("ABC-2", now=0.0) == 0.0

    def test_idle_buckets_are_forgotten(self) -> None:
        pacer = IssueWritePacer(burst=2, rate=1.0)
        for issue in ("A-1", "A-2", "A-3"):
            pacer.reserve(issue, now=0.0)
        assert len(pacer) == 3
        pacer.reserve("A-4", now=5.0)
        assert len(pacer) == 1

    def test_tracked_issues_are_bounded(self) -> None:
        pacer = IssueWritePacer(burst=1, rate=0.001, max_issues=100)
        for number in range(1000):
            pacer.reserve(f"A-{number}", now=0.0)
        assert len(pacer) == 100

    @pytest.mark.parametrize(
        ("burst", "rate", "max_issues"), [(0, 1.0, 10), (1, 0.0, 10), (1, 1.0, 0)]
    )
    def test_rejects_nonsense(self, burst: int, rate: float, max_issues: int) -> None:
        with pytest.raises(ValueError, match="burst"):
            IssueWritePacer(burst=burst, rate=rate, max_issues=max_issues)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("jira-burst-based", RateLimitKind.BURST),
        ("jira-per-issue-on-write", RateLimitKind.PER_ISSUE),
        ("jira-quota-tenant-based", RateLimitKind.QUOTA),
        ("jira-quota-global-based", RateLimitKind.QUOTA),
        ("JIRA-QUOTA-APP-BASED", RateLimitKind.QUOTA),
        (" jira-per-issue-on-write ", RateLimitKind.PER_ISSUE),
        ("something-new", RateLimitKind.UNKNOWN),
        ("", RateLimitKind.UNKNOWN),
        (None, RateLimitKind.UNKNOWN),
    ],
)
def test_rate_limit_kind(reason: str | None, kind: RateLimitKind) -> None:
    assert rate_limit_kind(reason) is kind


class TestQuotaGate:
    def test_a_pause_holds_until_its_end_then_is_gone(self) -> None:
        gate = QuotaGate()
        assert gate.remaining(now=0.0) == 0.0
        started = gate.pause("jira-quota-tenant-based", 30.0, now=100.0)
        assert started == QuotaPause("jira-quota-tenant-based", 30.0, 130.0)
        assert gate.remaining(now=110.0) == 20.0
        assert gate.remaining(now=130.0) == 0.0
        assert gate.current is None

    @pytest.mark.parametrize(
        ("seconds", "at", "extended", "until"),
        [(10.0, 105.0, False, 130.0), (30.0, 105.0, True, 135.0), (-5.0, 100.0, False, 130.0)],
    )
    def test_only_a_longer_pause_replaces_the_current_one(
        self, seconds: float, at: float, extended: bool, until: float
    ) -> None:
        gate = QuotaGate()
        gate.pause("jira-quota-tenant-based", 30.0, now=100.0)
        assert (gate.pause("jira-quota-global-based", seconds, now=at) is not None) is extended
        assert gate.current is not None
        assert gate.current.until == until
