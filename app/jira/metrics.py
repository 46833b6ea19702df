"""Prometheus metrics for calls to Jira, registered once per registry on first use."""

from __future__ import annotations

from functools import lru_cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0)


class JiraMetrics:
    """Counters and histograms for every HTTP attempt the Jira client makes."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.requests = Counter(
            "jira_requests_total",
            "HTTP attempts to Jira by method and status (HTTP code, or `error`).",
            ["method", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "jira_request_seconds",
            "Duration of HTTP attempts to Jira.",
            ["method"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.rate_limited = Counter(
            "jira_rate_limited_total",
            "429 answers from Jira by RateLimit-Reason.",
            ["reason"],
            registry=registry,
        )
        self.quota_pauses = Counter(
            "jira_quota_pauses_total",
            "Pauses of every call to a Jira because its tenant or app quota was used up.",
            ["reason"],
            registry=registry,
        )
        self.paused_until = Gauge(
            "jira_paused_until_timestamp_seconds",
            "Until when (Unix time) calls to a Jira are held by its last quota pause.",
            ["host"],
            registry=registry,
        )

    def observe(self, method: str, status: int | None, seconds: float) -> None:
        self.requests.labels(method=method, status=str(status) if status else "error").inc()
        self.seconds.labels(method=method).observe(seconds)


@lru_cache
def default_metrics() -> JiraMetrics:
    """The metrics on the process-wide registry, created on first use rather than at import."""
    return JiraMetrics()
