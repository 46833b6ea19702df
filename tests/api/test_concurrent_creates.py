"""Concurrent creates of one thing end as the sequential case does, never in a 500: upserts of
one key update the one row created, creates of one name give one 201 and 409s, and a repeated
event is a duplicate. (On SQLite writers queue, so the races happen on PostgreSQL; the answers
must be the same on both.)"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import httpx

from tests.support.helpdesk import API, ok, signed_event
from tests.support.world import seed_helpdesk

AT_ONCE = 12


async def at_once(requests: list[Awaitable[httpx.Response]]) -> Counter[int]:
    answers = await asyncio.gather(*requests)
    return Counter(answer.status_code for answer in answers)


def ticket_upserted(n: int) -> dict[str, Any]:
    return {
        "id": f"evt-ticket-{n}",
        "type": "ticket.upserted",
        "ticket": {"ExternalID": "hd-42", "Name": f"Version {n}", "TicketTypeName": "Task"},
    }


def action_created(n: int) -> dict[str, Any]:
    return {
        "id": f"evt-action-{n}",
        "type": "action.created",
        "action": {"ExternalID": "hd-a-1", "TicketExternalID": "hd-42", "Description": "Hello"},
    }


class TestHelpdeskEvents:
    async def test_upserts_of_one_external_id_make_one_ticket(
        self, client: httpx.AsyncClient
    ) -> None:
        await seed_helpdesk(client)
        events = [ticket_upserted(n) for n in range(AT_ONCE)]
        answers = await at_once(
            [client.post("/webhooks/helpdesk", **signed_event(e)) for e in events]
        )
        assert answers == {200: AT_ONCE}
        (ticket,) = (await ok(await client.get(f"{API}/Tickets")))["Tickets"]
        assert ticket["Name"] in {event["ticket"]["Name"] for event in events}

    async def test_actions_of_one_external_id_make_one_action(
        self, client: httpx.AsyncClient
    ) -> None:
        await seed_helpdesk(client)
        await ok(await client.post("/webhooks/helpdesk", **signed_event(ticket_upserted(0))))
        events = [action_created(n) for n in range(AT_ONCE)]
        answers = await at_once(
            [client.post("/webhooks/helpdesk", **signed_event(e)) for e in events]
        )
        assert answers == {200: AT_ONCE}
        (ticket,) = (await ok(await client.get(f"{API}/Tickets")))["Tickets"]
        actions = (await ok(await client.get(f"{API}/Tickets/{ticket['ID']}/Actions")))["Actions"]
        assert [a["Description"] for a in actions].count("Hello") == 1


class TestCreatesByName:
    async def test_jira_instances(self, client: httpx.AsyncClient) -> None:
        body = {"Name": "Second", "HostName": "https://second.example.com"}
        requests = [client.post(f"{API}/JiraInstances", json=body) for _ in range(AT_ONCE)]
        assert await at_once(requests) == {201: 1, 409: AT_ONCE - 1}
        names = [
            i["Name"] for i in (await ok(await client.get(f"{API}/JiraInstances")))["JiraInstances"]
        ]
        assert names.count("Second") == 1

    async def test_crm_dictionaries(self, client: httpx.AsyncClient) -> None:
        body = {"Name": "Colors", "Values": ["Red"]}
        requests = [client.post(f"{API}/Crm/Dictionaries", json=body) for _ in range(AT_ONCE)]
        assert await at_once(requests) == {201: 1, 409: AT_ONCE - 1}

    async def test_crm_tables(self, client: httpx.AsyncClient) -> None:
        body = {"Code": "PETS", "Name": "Pets"}
        requests = [client.post(f"{API}/Crm/Tables", json=body) for _ in range(AT_ONCE)]
        assert await at_once(requests) == {201: 1, 409: AT_ONCE - 1}

    async def test_crm_users_are_upserted(self, client: httpx.AsyncClient) -> None:
        requests = [
            client.put(f"{API}/Crm/Users/bob", json={"Rights": ["Search CRM objects"]})
            for _ in range(AT_ONCE)
        ]
        assert set(await at_once(requests)) == {200}
        users = (await ok(await client.get(f"{API}/Crm/Users")))["Users"]
        assert [u["UserName"] for u in users].count("bob") == 1


def case_variants(name: str) -> list[str]:
    """`name` spelled AT_ONCE ways that differ only in case: one name to the service."""
    return [
        "".join(c.upper() if (n >> i) & 1 else c.lower() for i, c in enumerate(name))
        for n in range(AT_ONCE)
    ]


class TestNamesDifferingOnlyInCase:
    """The API compares catalogue and instance names regardless of case; concurrent creations
    of "vpn" and "VPN" must end as the sequential ones do: one created, the others 409."""

    async def test_catalogue_names(self, client: httpx.AsyncClient) -> None:
        for path, element, extra in [
            ("/TicketTypes", "TicketType", {}),
            ("/ActionTypes", "ActionType", {}),
            ("/Products", "Product", {}),
            ("/CustomFields", "CustomField", {"FieldType": "Text"}),
        ]:
            requests = [
                client.post(f"{API}{path}", json={"Name": name, **extra})
                for name in case_variants("vpnname")
            ]
            assert await at_once(requests) == {201: 1, 409: AT_ONCE - 1}, path
            names = [
                item["Name"] for item in (await ok(await client.get(f"{API}{path}")))[path[1:]]
            ]
            assert [n.lower() for n in names].count("vpnname") == 1, element

    async def test_status_names_within_a_ticket_type(self, client: httpx.AsyncClient) -> None:
        helpdesk = await seed_helpdesk(client)
        requests = [
            client.post(
                f"{API}/TicketStatuses", json={"Name": name, "TicketTypeID": helpdesk.types["Bug"]}
            )
            for name in case_variants("waiting")
        ]
        assert await at_once(requests) == {201: 1, 409: AT_ONCE - 1}

    async def test_version_numbers_within_a_product(self, client: httpx.AsyncClient) -> None:
        product = await ok(await client.post(f"{API}/Products", json={"Name": "Widget"}), 201)
        path = f"{API}/Products/{product['Product']['ID']}/Versions"
        requests = [
            client.post(path, json={"VersionNumber": name}) for name in case_variants("beta-one")
        ]
        assert await at_once(requests) == {201: 1, 409: AT_ONCE - 1}

    async def test_jira_instance_names(self, client: httpx.AsyncClient) -> None:
        requests = [
            client.post(
                f"{API}/JiraInstances", json={"Name": name, "HostName": "https://x.example.com"}
            )
            for name in case_variants("second")
        ]
        assert await at_once(requests) == {201: 1, 409: AT_ONCE - 1}
