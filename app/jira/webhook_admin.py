"""Jira's webhook REST API (`/rest/webhooks/1.0/webhook`, Jira administrators only): list,
create and update the webhooks Jira calls, and which kind of Jira this is (Cloud signs with a
secret; Server/Data Center cannot, so the secret goes in the URL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, TypeAdapter

from app.jira.http import JiraHttp, parse, parse_as, response_json
from app.jira.schemas import JiraModel

WEBHOOKS = "/rest/webhooks/1.0/webhook"
JQL_SECTION = "issue-related-events-section"


class JiraWebhook(JiraModel):
    """One webhook as Jira lists it (the secret is never shown)."""

    self_: str = Field(alias="self")
    name: str = ""
    url: str = ""
    events: list[str] = Field(default_factory=list)
    enabled: bool = True

    @property
    def id(self) -> str:
        return self.self_.rstrip("/").rsplit("/", 1)[-1]


_webhooks = TypeAdapter(list[JiraWebhook])


def webhook_body(
    *, name: str, url: str, events: Sequence[str], secret: str | None, jql: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "url": url,
        "events": list(events),
        "filters": {JQL_SECTION: jql},
        "excludeBody": False,
        "enabled": True,
    }
    if secret:
        body["secret"] = secret
    return body


class WebhookAdmin:
    """The webhook calls of one Jira client (its HTTP, retries and pacing)."""

    def __init__(self, http: JiraHttp) -> None:
        self._http = http

    async def is_cloud(self) -> bool:
        """Whether the Jira is Cloud (`serverInfo.deploymentType`), which signs deliveries."""
        data = response_json(await self._http.request("GET", "/rest/api/2/serverInfo"))
        return isinstance(data, dict) and str(data.get("deploymentType", "")).lower() == "cloud"

    async def registered(self) -> list[JiraWebhook]:
        return parse_as(_webhooks, await self._http.request("GET", WEBHOOKS))

    async def create(self, body: dict[str, Any]) -> JiraWebhook:
        """Create a webhook; never repeated once the request may have been sent (a retry of the
        registration finds it by its URL instead)."""
        return parse(JiraWebhook, await self._http.request("POST", WEBHOOKS, json=body))

    async def update(self, webhook_id: str, body: dict[str, Any]) -> JiraWebhook:
        response = await self._http.request("PUT", f"{WEBHOOKS}/{webhook_id}", json=body)
        return parse(JiraWebhook, response)
