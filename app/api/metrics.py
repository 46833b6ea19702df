"""`GET /metrics`: Prometheus exposition of this process's counters (jobs, Jira calls, …).

Protected by the API token like the admin API (a scraper sends it as `Authorization: Bearer`):
queue depths, error rates and Jira hosts' behaviour are not for anyone who can reach the port."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app.api.deps import require_api_token
from app.api.openapi import ERROR_RESPONSES
from app.jira.metrics import default_metrics

router = APIRouter(tags=["health"], dependencies=[Depends(require_api_token)])


@router.get(
    "/metrics", summary="Prometheus metrics", response_class=Response, responses=ERROR_RESPONSES
)
async def metrics() -> Response:
    default_metrics()  # Jira call metrics exist (at zero) before the first call
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
