"""Backoff delays, Retry-After parsing and per-issue write pacing: pure code, no I/O."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

from app.core.backoff import BackoffPolicy, Jitter

Random = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long the client waits before repeating a request."""

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    rate_limit_base: float = 2.0
    # A 429 asking for a longer wait is not slept on: the caller reschedules instead.
    max_retry_after: float = 60.0

    def backoff(self, attempt: int, random: Random) -> float:
        """Delay before retry number `attempt + 1` after a transport error or a 5xx: full
        jitter, as many clients may be retrying one Jira."""
        policy = BackoffPolicy(self.backoff_base, self.backoff_cap, Jitter.FULL)
        return policy.delay(attempt + 1, random)

    def rate_limit_backoff(self, attempt: int, random: Random) -> float:
        """Delay after a 429 that carried no usable Retry-After."""
        policy = BackoffPolicy(self.rate_limit_base, self.backoff_cap, Jitter.FULL)
        return policy.delay(attempt + 1, random)


class RateLimitKind(StrEnum):
    """Which of Jira Cloud's limits a 429 comes from (its `RateLimit-Reason`)."""

    BURST = "burst"  # per second, one endpoint: repeat this call after the wait
    PER_ISSUE = "per-issue"  # writes to one issue: hold back writes to that issue only
    QUOTA = "quota"  # the points-based hourly quota of the tenant or app: pause every call
    UNKNOWN = "unknown"  # Server/Data Center, or a reason not known yet: like a burst


def rate_limit_kind(reason: str | None) -> RateLimitKind:
    """`jira-burst-based`, `jira-per-issue-on-write`, `jira-quota-tenant-based`,
    `jira-quota-global-based` (or any other `jira-quota-…`) as the kind of limit (pure)."""
    text = (reason or "").strip().lower()
    if text == "jira-per-issue-on-write":
        return RateLimitKind.PER_ISSUE
    if text.startswith("jira-quota-"):
        return RateLimitKind.QUOTA
    if text == "jira-burst-based":
        return RateLimitKind.BURST
    return RateLimitKind.UNKNOWN


@dataclass(frozen=True, slots=True)
class QuotaPause:
    """Every call to one Jira held until `until` (the client's clock) because of `reason`."""

    reason: str
    seconds: float  # how long from the 429 that started it
    until: float


class QuotaGate:
    """The pause a quota 429 puts on every call to one Jira (pure: the caller passes the time).

    `pause` starts it, or extends it when a later 429 asks for longer; `remaining` says how
    long a call must still wait."""

    def __init__(self) -> None:
        self.current: QuotaPause | None = None

    def pause(self, reason: str, seconds: float, *, now: float) -> QuotaPause | None:
        """Hold calls for `seconds` from `now`; returns the new pause, or None when the current
        one already lasts as long (a 429 of a call sent before the pause began)."""
        until = now + max(0.0, seconds)
        if self.current is not None and self.current.until >= until:
            return None
        self.current = QuotaPause(reason, max(0.0, seconds), until)
        return self.current

    def remaining(self, *, now: float) -> float:
        if self.current is None or self.current.until <= now:
            self.current = None
            return 0.0
        return self.current.until - now


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP-date); None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)


class IssueWritePacer:
    """A token bucket per issue (burst `burst`, refilled at `rate` per second), kept as GCRA.

    `reserve` takes a token and returns how long the caller must wait before writing, so
    concurrent writers to one issue queue up in order. Buckets that are full again are forgotten,
    and at most `max_issues` are tracked (least recently used dropped first).
    """

    def __init__(self, *, burst: int = 10, rate: float = 5.0, max_issues: int = 10_000) -> None:
        if burst < 1 or rate <= 0 or max_issues < 1:
            raise ValueError("burst and max_issues must be >= 1 and rate > 0")
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._max_issues = max_issues
        # Theoretical arrival time per issue: the bucket is full again once it is in the past.
        self._tat: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tat)

    def reserve(self, issue: str, *, now: float) -> float:
        """Take one write token for `issue`; returns the seconds to wait before using it."""
        self._forget_idle(now)
        tat = max(self._tat.get(issue, now), now)
        start = max(now, tat - self._tolerance)
        self._tat[issue] = tat + self._interval
        self._tat.move_to_end(issue)
        self._enforce_bound()
        return start - now

    def penalize(self, issue: str, delay: float, *, now: float) -> None:
        """Jira said this issue takes no writes for `delay` seconds: hold back the next write."""
        tat = max(self._tat.get(issue, now), now + max(0.0, delay) + self._tolerance)
        self._tat[issue] = tat
        self._tat.move_to_end(issue)
        self._enforce_bound()

    def _forget_idle(self, now: float) -> None:
        while self._tat:
            issue, tat = next(iter(self._tat.items()))
            if tat > now:
                return
            del self._tat[issue]

    def _enforce_bound(self) -> None:
        while len(self._tat) > self._max_issues:
            self._tat.popitem(last=False)
