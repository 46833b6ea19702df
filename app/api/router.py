"""Every route of the service, mounted once per format under `/api/json` and `/api/xml`."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute

from app.api import (
    catalog,
    crm,
    crm_admin,
    health,
    helpdesk_events,
    jira_admin,
    jira_reconcile,
    metrics,
    reports,
    tickets,
    webhooks_jira,
)
from app.api.deps import require_api_token
from app.api.openapi import ERROR_RESPONSES

HELPDESK_ROUTERS = (
    catalog.router,
    tickets.router,
    jira_admin.router,
    jira_reconcile.router,
    reports.router,
    crm_admin.router,
)


def _unique_id(prefix: str):  # type: ignore[no-untyped-def]
    def generate(route: APIRoute) -> str:
        methods = "_".join(sorted(route.methods or ()))
        return f"{prefix}_{route.name}_{methods}".lower()

    return generate


api_router = APIRouter()
api_router.include_router(health.router)
# Signed webhooks (helpdesk: API_TOKEN HMAC; Jira: each instance's WebhookSecret) and metrics.
api_router.include_router(helpdesk_events.router)
api_router.include_router(webhooks_jira.router)
api_router.include_router(metrics.router)
for fmt in ("json", "xml"):
    for helpdesk_router in HELPDESK_ROUTERS:
        api_router.include_router(
            helpdesk_router,
            prefix=f"/api/{fmt}",
            dependencies=[Depends(require_api_token)],
            generate_unique_id_function=_unique_id(fmt),
            responses=ERROR_RESPONSES,
        )
api_router.include_router(crm.router)  # authenticated by its own apiKey and userName
