"""Prometheus metrics of the sync worker."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOBS_ENQUEUED = Counter("sync_jobs_enqueued_total", "Jobs added to the outbox", ["kind"])
JOBS_DONE = Counter("sync_jobs_done_total", "Jobs finished successfully", ["kind"])
JOBS_RETRIED = Counter("sync_jobs_retried_total", "Job attempts that will be retried", ["kind"])
JOBS_FAILED = Counter("sync_jobs_failed_total", "Jobs that ended as failed", ["kind"])
JOB_LATENCY = Histogram(
    "sync_job_latency_seconds",
    "From enqueue to done",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
