"""Every route of the service, mounted once per format under `/api/json` and `/api/xml`."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from app.api import (
    catalog,
    crm,
    crm_admin,
    event_subscriptions,
    health,
    helpdesk_events,
    jira_admin,
    jira_reconcile,
    metrics,
    reports,
    sync_jobs,
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
    sync_jobs.router,
    crm_admin.router,
    event_subscriptions.router,
)


def _unique_id(prefix: str):  # type: ignore[no-untyped-def]
    def generate(route: APIRoute) -> str:
        methods = "_".join(sorted(route.methods or ()))
        return f"{prefix}_{route.name}_{methods}".lower()

    return generate


def include_routes(app: FastAPI) -> None:
    """Every router, included in the app itself: FastAPI matches a request level by level, so
    routers nested in a router cost each request a second round of matching. Jira's webhooks
    come first, being most of the traffic."""
    # Signed webhooks (Jira: each instance's WebhookSecret; helpdesk: API_TOKEN HMAC).
    app.include_router(webhooks_jira.router)
    app.include_router(helpdesk_events.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for fmt in ("json", "xml"):
        for helpdesk_router in HELPDESK_ROUTERS:
            app.include_router(
                helpdesk_router,
                prefix=f"/api/{fmt}",
                dependencies=[Depends(require_api_token)],
                generate_unique_id_function=_unique_id(fmt),
                responses=ERROR_RESPONSES,
            )
    app.include_router(crm.router)  # authenticated by its own apiKey and userName
