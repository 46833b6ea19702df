"""The helpdesk's JSON API as a test uses it: tickets, their actions and history, one call each,
and the external helpdesk's signed events. (Building the catalogue and the Jira instance they
need: `tests.support.world`.)"""

from __future__ import annotations

import json
from typing import Any

import httpx

from app.core.security import hmac_sha256_hex
from tests.conftest import API_TOKEN

API = "/api/json"


def signed_event(event: dict[str, Any], secret: str = API_TOKEN) -> dict[str, Any]:
    """`POST /webhooks/helpdesk` keyword arguments for `event`, signed with `secret`."""
    body = json.dumps(event).encode()
    return {
        "content": body,
        "headers": {
            "Content-Type": "application/json",
            "X-Signature": f"sha256={hmac_sha256_hex(secret, body)}",
        },
    }


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def create_ticket(client: httpx.AsyncClient, **elements: Any) -> dict[str, Any]:
    body = {"Name": "Printer on fire", "TicketTypeName": "Task", **elements}
    answer = await ok(await client.post(f"{API}/Tickets", json=body), 201)
    return dict(answer["Ticket"])


async def get_ticket(client: httpx.AsyncClient, ticket_id: int) -> dict[str, Any]:
    return dict((await ok(await client.get(f"{API}/Tickets/{ticket_id}")))["Ticket"])


async def history(client: httpx.AsyncClient, ticket_id: int) -> list[str]:
    rows = (await ok(await client.get(f"{API}/Tickets/{ticket_id}/History")))["History"]
    return [row["Description"] for row in rows]


async def add_action(
    client: httpx.AsyncClient, ticket_id: int, text: str, action_type: str | None = "Comment"
) -> dict[str, Any]:
    body = {"Description": text, "ActionType": action_type}
    answer = await ok(await client.post(f"{API}/Tickets/{ticket_id}/Actions", json=body), 201)
    return dict(answer["Action"])


async def get_action(client: httpx.AsyncClient, ticket_id: int, action_id: int) -> dict[str, Any]:
    answer = await ok(await client.get(f"{API}/Tickets/{ticket_id}/Actions/{action_id}"))
    return dict(answer["Action"])


async def actions_of(client: httpx.AsyncClient, ticket_id: int) -> list[dict[str, Any]]:
    return list((await ok(await client.get(f"{API}/Tickets/{ticket_id}/Actions")))["Actions"])
