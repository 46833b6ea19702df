"""Jira's webhook REST API (`/rest/webhooks/1.0/webhook`): what an administrator registers there
is delivered like any other target. Jira Cloud takes a `secret` and signs; Server/Data Center
cannot sign, so the secret travels in the URL's query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request, Response

from jirasim.errors import JiraError
from jirasim.model import User
from jirasim.rest_common import read_object
from jirasim.webhooks import ALL_EVENTS, WebhookTarget

if TYPE_CHECKING:
    from jirasim.simulator import JiraSimulator

NO_CONTENT = 204
JQL_SECTION = "issue-related-events-section"


def build_webhook_router(sim: JiraSimulator) -> APIRouter:
    router = APIRouter(prefix="/rest/webhooks/1.0")

    async def admin(request: Request) -> User:
        user = sim.authenticate(request.headers.get("authorization"))
        if "ADMINISTER" not in user.permissions:
            raise JiraError(403, "You are not authorised to perform this action.")
        return user

    def render(target: WebhookTarget) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{sim.base_url}/rest/webhooks/1.0/webhook/{target.id}",
            "name": target.name,
            "url": target.url,
            "events": list(target.events),
            "filters": {JQL_SECTION: target.jql},
            "excludeBody": False,
            "enabled": target.enabled,
        }
        if target.updated_by:
            user = sim.state.users.get(target.updated_by)
            out["lastUpdatedUser"] = user.account_id if user and sim.flavor == "cloud" else None
            out["lastUpdatedDisplayName"] = user.display_name if user else None
        return out

    def target_of(webhook_id: int) -> WebhookTarget:
        found = sim.webhooks.targets.get(webhook_id)
        if found is None:
            raise JiraError(404, f"No webhook with id {webhook_id}")
        return found

    def check(body: dict[str, Any]) -> None:
        name, url, events = body.get("name"), body.get("url"), body.get("events", [])
        errors = {}
        if not isinstance(name, str) or not name.strip():
            errors["name"] = "The webhook name is required."
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            errors["url"] = "The webhook URL must be an absolute http(s) URL."
        if not isinstance(events, list) or set(map(str, events)) - set(ALL_EVENTS):
            errors["events"] = f"Events must be some of {', '.join(ALL_EVENTS)}."
        if errors:
            raise JiraError(400, [], errors)

    def apply(target: WebhookTarget, body: dict[str, Any], user: User) -> None:
        check(body)
        target.name, target.url = str(body["name"]), str(body["url"])
        target.events = [str(e) for e in body.get("events", target.events)]
        target.enabled = bool(body.get("enabled", target.enabled))
        filters = body.get("filters")
        if isinstance(filters, dict):
            target.jql = str(filters.get(JQL_SECTION) or "")
        secret = body.get("secret")
        if sim.flavor == "cloud" and isinstance(secret, str) and secret:
            target.secret, target.secret_in = secret, "header"
        target.style = sim.flavor
        target.updated_by = user.name

    @router.get("/webhook")
    async def webhooks(user: User = Depends(admin)) -> Any:
        return [render(t) for t in sim.webhooks.targets.values()]

    @router.get("/webhook/{webhook_id}")
    async def webhook(webhook_id: int, user: User = Depends(admin)) -> Any:
        return render(target_of(webhook_id))

    @router.post("/webhook", status_code=201)
    async def create(request: Request, user: User = Depends(admin)) -> Any:
        body = await read_object(request)
        check(body)
        created = sim.register_webhook(str(body["url"]), style=sim.flavor)
        apply(created, body, user)
        return render(created)

    @router.put("/webhook/{webhook_id}")
    async def update(webhook_id: int, request: Request, user: User = Depends(admin)) -> Any:
        body = await read_object(request)
        target = target_of(webhook_id)
        apply(target, body, user)
        return render(target)

    @router.delete("/webhook/{webhook_id}", status_code=NO_CONTENT)
    async def delete(webhook_id: int, user: User = Depends(admin)) -> Response:
        sim.webhooks.unregister(target_of(webhook_id).id)
        return Response(status_code=NO_CONTENT)

    return router
