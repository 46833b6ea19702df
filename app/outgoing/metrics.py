"""Prometheus metrics of outgoing events, by event type."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_EMITTED = Counter(
    "outgoing_events_queued_total", "Event deliveries queued (one per subscription)", ["type"]
)
EVENTS_SENT = Counter(
    "outgoing_events_sent_total", "Event deliveries a receiver accepted", ["type"]
)
EVENTS_FAILED = Counter(
    "outgoing_events_failed_total", "Event deliveries that ended as Failed", ["type"]
)
EVENT_ATTEMPTS = Counter(
    "outgoing_event_attempts_total", "Attempts to deliver an event, by outcome", ["type", "outcome"]
)
EVENT_LATENCY = Histogram(
    "outgoing_event_latency_seconds",
    "From the change to the receiver's 2xx",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600),
)
