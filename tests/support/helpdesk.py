"""Setting up a helpdesk and a Jira instance through the API, for tests at any level."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

API = "/api/json"


@dataclass
class Helpdesk:
    types: dict[str, int] = field(default_factory=dict)
    action_types: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def seed_helpdesk(client: httpx.AsyncClient) -> Helpdesk:
    """Ticket types Task and Bug (status New by default), action types Comment and Note."""
    helpdesk = Helpdesk()
    for name in ("Task", "Bug"):
        created = await ok(await client.post(f"{API}/TicketTypes", json={"Name": name}), 201)
        helpdesk.types[name] = created["TicketType"]["ID"]
        await ok(
            await client.post(
                f"{API}/TicketStatuses",
                json={"Name": "New", "TicketTypeID": helpdesk.types[name], "IsDefault": True},
            ),
            201,
        )
    for name in ("Comment", "Note"):
        created = await ok(await client.post(f"{API}/ActionTypes", json={"Name": name}), 201)
        helpdesk.action_types[name] = created["ActionType"]["ID"]
    return helpdesk


async def configure_default_instance(
    client: httpx.AsyncClient, host: str, user: str, token: str, **settings: Any
) -> dict[str, Any]:
    body = {
        "HostName": host,
        "UserName": user,
        "ApiToken": token,
        "SyncActive": True,
        "DefaultProjectKey": "DEMO",
        **settings,
    }
    answer = await ok(await client.put(f"{API}/JiraInstances/1", json=body))
    return dict(answer["JiraInstance"])


async def add_product(
    client: httpx.AsyncClient, helpdesk: Helpdesk, name: str, key: str | None = None
) -> int:
    created = await ok(
        await client.post(f"{API}/Products", json={"Name": name, "JiraProjectKey": key}), 201
    )
    helpdesk.products[name] = created["Product"]["ID"]
    return int(created["Product"]["ID"])


async def create_ticket(client: httpx.AsyncClient, **elements: Any) -> dict[str, Any]:
    body = {"Name": "Printer on fire", "TicketTypeName": "Task", **elements}
    answer = await ok(await client.post(f"{API}/Tickets", json=body), 201)
    return dict(answer["Ticket"])


async def get_ticket(client: httpx.AsyncClient, ticket_id: int) -> dict[str, Any]:
    return dict((await ok(await client.get(f"{API}/Tickets/{ticket_id}")))["Ticket"])


async def history(client: httpx.AsyncClient, ticket_id: int) -> list[str]:
    rows = (await ok(await client.get(f"{API}/Tickets/{ticket_id}/History")))["History"]
    return [row["Description"] for row in rows]
