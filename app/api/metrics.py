"""`GET /metrics`: Prometheus exposition of this process's counters (jobs, Jira calls, …)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app.jira.metrics import default_metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    default_metrics()  # Jira call metrics exist (at zero) before the first call
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
