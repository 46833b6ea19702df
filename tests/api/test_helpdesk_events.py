"""`POST /webhooks/helpdesk`: signed, idempotent by event id, same code paths as the API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core.security import hmac_sha256_hex
from app.inbox.models import WebhookDelivery
from tests.conftest import API_TOKEN, SIM_BASE_URL, SIM_TOKEN, SIM_USER
from tests.support.database import DatabaseReset, table_contents
from tests.support.helpdesk import API, ok, signed_event
from tests.support.jobs import drain, jobs_of_kind
from tests.support.world import configure_default_instance, ready_helpdesk, seed_helpdesk

TICKET = {
    "id": "evt-1",
    "type": "ticket.upserted",
    "ticket": {"ExternalID": "hd-42", "Name": "From the helpdesk", "TicketTypeName": "Task"},
}
ACTION = {
    "id": "evt-2",
    "type": "action.created",
    "action": {"ExternalID": "hd-a-1", "TicketExternalID": "hd-42", "Description": "Hello"},
}


async def count_deliveries(session: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(WebhookDelivery)))


class TestHelpdeskEvents:
    async def test_an_action_says_whether_the_customer_sees_it(
        self, client: httpx.AsyncClient
    ) -> None:
        await seed_helpdesk(client)
        await client.post("/webhooks/helpdesk", **signed_event(TICKET))
        for n, visible in enumerate((True, False, None)):
            action = {**ACTION["action"], "ExternalID": f"hd-a-{n}"}  # type: ignore[dict-item]
            if visible is not None:
                action["IsVisibleOnPortal"] = visible
            event = {"id": f"evt-a-{n}", "type": "action.created", "action": action}
            assert (await client.post("/webhooks/helpdesk", **signed_event(event))).is_success
        actions = await ok(await client.get(f"{API}/Tickets/1/Actions"))
        assert [a["IsVisibleOnPortal"] for a in actions["Actions"]] == [True, False, False]

    async def test_each_event_applies_once_however_often_sent(
        self, client: httpx.AsyncClient
    ) -> None:
        await seed_helpdesk(client)
        for _ in range(3):
            assert (
                await client.post("/webhooks/helpdesk", **signed_event(TICKET))
            ).status_code == 200
            assert (
                await client.post("/webhooks/helpdesk", **signed_event(ACTION))
            ).status_code == 200
        tickets = (await ok(await client.get(f"{API}/Tickets")))["Tickets"]
        assert [t["Name"] for t in tickets] == ["From the helpdesk"]
        actions = await ok(await client.get(f"{API}/Tickets/{tickets[0]['ID']}/Actions"))
        assert [a["Description"] for a in actions["Actions"]] == ["Hello"]

    async def test_concurrent_duplicates_apply_once(self, client: httpx.AsyncClient) -> None:
        await seed_helpdesk(client)
        answers = await asyncio.gather(
            *(client.post("/webhooks/helpdesk", **signed_event(TICKET)) for _ in range(5))
        )
        assert {a.status_code for a in answers} == {200}
        assert len((await ok(await client.get(f"{API}/Tickets")))["Tickets"]) == 1

    async def test_a_later_upsert_with_a_new_id_updates_the_same_ticket(
        self, client: httpx.AsyncClient
    ) -> None:
        await seed_helpdesk(client)
        await client.post("/webhooks/helpdesk", **signed_event(TICKET))
        changed = {**TICKET, "id": "evt-3", "ticket": {"ExternalID": "hd-42", "Name": "Renamed"}}
        assert (await client.post("/webhooks/helpdesk", **signed_event(changed))).status_code == 200
        tickets = (await ok(await client.get(f"{API}/Tickets")))["Tickets"]
        assert [t["Name"] for t in tickets] == ["Renamed"]

    async def test_bad_signature_is_401_and_stores_nothing(
        self, client: httpx.AsyncClient, session: Any
    ) -> None:
        response = await client.post(
            "/webhooks/helpdesk", **signed_event(TICKET, "wrong-secret-123")
        )
        assert response.status_code == 401
        unsigned = await client.post("/webhooks/helpdesk", json=TICKET)
        assert unsigned.status_code == 401
        assert await count_deliveries(session) == 0

    async def test_unknown_event_types_are_acknowledged(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/webhooks/helpdesk", **signed_event({"id": "evt-9", "type": "ticket.deleted"})
        )
        assert response.status_code == 202

    async def test_a_bad_event_is_400_and_can_be_resent_fixed(
        self, client: httpx.AsyncClient
    ) -> None:
        await seed_helpdesk(client)
        bad = {**TICKET, "ticket": {"ExternalID": "hd-42", "Name": "x", "TicketTypeName": "Nope"}}
        assert (await client.post("/webhooks/helpdesk", **signed_event(bad))).status_code == 400
        assert (await client.post("/webhooks/helpdesk", **signed_event(TICKET))).status_code == 200

    async def test_jira_key_and_pushed_actions_take_the_api_paths(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await ready_helpdesk(sim_client)
        event = {**TICKET, "ticket": {**TICKET["ticket"], "JiraKey": "NewJiraIssue"}}  # type: ignore[dict-item]
        for _ in range(2):
            await sim_client.post("/webhooks/helpdesk", **signed_event(event))
            await sim_client.post("/webhooks/helpdesk", **signed_event(ACTION))
        await drain(sim_app)
        (issue,) = jira_sim.state.issues.values()
        assert len(issue.comments) == 1


class TestNewJiraIssueResent:
    async def test_two_upserts_with_new_jira_issue_give_one_link_job_and_one_issue(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await seed_helpdesk(sim_client)
        await configure_default_instance(sim_client, SIM_BASE_URL, SIM_USER, SIM_TOKEN)
        ticket = {**TICKET["ticket"], "JiraKey": "NewJiraIssue"}  # type: ignore[dict-item]
        for event_id in ("evt-new-1", "evt-new-2"):  # the helpdesk re-sends the whole state
            event = {**TICKET, "id": event_id, "ticket": ticket}
            await ok(await sim_client.post("/webhooks/helpdesk", **signed_event(event)))
        assert len(await jobs_of_kind(sim_app, "jira.link_ticket")) == 1
        await drain(sim_app)
        assert len(jira_sim.state.issues) == 1
        event = {**TICKET, "id": "evt-new-3", "ticket": ticket}  # and again once linked
        await ok(await sim_client.post("/webhooks/helpdesk", **signed_event(event)))
        await drain(sim_app)
        assert len(await jobs_of_kind(sim_app, "jira.link_ticket")) == 1
        assert len(jira_sim.state.issues) == 1


def signed_bytes(body: bytes) -> dict[str, Any]:
    return {
        "content": body,
        "headers": {
            "Content-Type": "application/json",
            "X-Signature": f"sha256={hmac_sha256_hex(API_TOKEN, body)}",
        },
    }


def _with(event: dict[str, Any], record: str | None, name: str, value: Any) -> dict[str, Any]:
    if record is None:
        return {**event, name: value}
    return {**event, record: {**event[record], name: value}}


ACTION_ON_TICKET = {**ACTION, "id": "evt-bad"}
UNSTORABLE = {"nul": "a\x00b", "surrogate": "a\ud800b", "low-surrogate": "\udfff"}
UNSTORABLE_EVENTS: list[Any] = [
    *(
        pytest.param(json.dumps(_with(event, record, name, text)).encode(), id=f"{label}-{what}")
        for what, (event, record, name) in {
            "event-id": (TICKET, None, "id"),
            "event-type": (TICKET, None, "type"),
            "ticket-external-id": (TICKET, "ticket", "ExternalID"),
            "ticket-name": (TICKET, "ticket", "Name"),
            "ticket-type-name": (TICKET, "ticket", "TicketTypeName"),
            "ticket-custom-element": (TICKET, "ticket", "Colour"),
            "action-external-id": (ACTION_ON_TICKET, "action", "ExternalID"),
            "action-ticket-external-id": (ACTION_ON_TICKET, "action", "TicketExternalID"),
            "action-description": (ACTION_ON_TICKET, "action", "Description"),
            "action-type": (ACTION_ON_TICKET, "action", "ActionType"),
            "unknown-event-field": ({**TICKET, "type": "ticket.deleted"}, None, "note"),
        }.items()
        for label, text in UNSTORABLE.items()
    ),
    pytest.param(
        json.dumps({**TICKET, "ticket": {**TICKET["ticket"], "Na\x00me": "x"}}).encode(),
        id="nul-in-an-element-name",
    ),
    pytest.param(
        json.dumps({**TICKET, "id": "evt-list", "tags": [["a", "\ud800"]]}).encode(),
        id="surrogate-deep-in-a-list",
    ),
    *(
        pytest.param(json.dumps(TICKET).encode(encoding), id=encoding)
        for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32")
    ),
    pytest.param(
        json.dumps(TICKET).replace("helpdesk", "h\xe9lpdesk").encode("latin-1"), id="latin-1"
    ),
]


class TestUnstorableEvents:
    @pytest.mark.parametrize("body", UNSTORABLE_EVENTS)
    async def test_is_400_in_plain_words_and_changes_nothing(
        self, client: httpx.AsyncClient, db: Any, database_reset: DatabaseReset, body: bytes
    ) -> None:
        await seed_helpdesk(client)
        assert (await client.post("/webhooks/helpdesk", **signed_event(TICKET))).status_code == 200
        before = await table_contents(db, database_reset.tables)

        response = await client.post("/webhooks/helpdesk", **signed_bytes(body))

        assert response.status_code == 400, response.text[:300]
        message = response.json()["Error"]["Message"]
        assert "NUL character or a lone surrogate" in message or "UTF-8" in message
        assert await table_contents(db, database_reset.tables) == before

    async def test_the_element_is_named(self, client: httpx.AsyncClient) -> None:
        await seed_helpdesk(client)
        bad = _with(TICKET, "ticket", "Name", "a\x00b")
        response = await client.post("/webhooks/helpdesk", **signed_event(bad))
        assert response.json()["Error"]["Message"] == (
            "Element 'ticket.Name' contains a NUL character or a lone surrogate."
        )

    async def test_a_byte_order_mark_is_allowed(self, client: httpx.AsyncClient) -> None:
        await seed_helpdesk(client)
        body = json.dumps(TICKET).encode("utf-8-sig")
        assert (await client.post("/webhooks/helpdesk", **signed_bytes(body))).status_code == 200
