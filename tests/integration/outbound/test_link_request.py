"""A ticket's JiraKey request (app/integration/outbound/link_request.py): checked at once, then
handed to the worker in the same transaction; an empty key unlinks. Through the API (as a
helpdesk sees it) and as a service."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BadRequest
from app.helpdesk.models import Product, Ticket
from app.integration.job_kinds import LinkTicket
from app.integration.models import SyncLog
from app.integration.outbound.link_request import apply_jira_key, instance_for_ticket
from tests.support.helpdesk import API, create_ticket, get_ticket, history, ok
from tests.support.jobs import drain, jobs_of_kind
from tests.support.outbound import sim_issues, sync_logs
from tests.support.rows import count, history_lines, queued_jobs, ticket
from tests.support.world import (
    Helpdesk,
    LinkedWorld,
    link,
    linked_ticket,
    linked_world,
    make_instance,
)


class TestJiraKeyRequest:
    async def test_inactive_instance_is_a_400(
        self, sim_client: httpx.AsyncClient, helpdesk: Helpdesk
    ) -> None:
        await ok(await sim_client.put(f"{API}/JiraInstances/1", json={"SyncActive": False}))
        response = await sim_client.post(
            f"{API}/Tickets", json={"Name": "x", "TicketTypeName": "Task", "JiraKey": "DEMO-1"}
        )
        assert response.status_code == 400
        assert "not active" in response.json()["Error"]["Message"]

    async def test_ticket_type_outside_the_allowed_ones_is_a_400(
        self, sim_client: httpx.AsyncClient, helpdesk: Helpdesk
    ) -> None:
        await ok(
            await sim_client.put(
                f"{API}/JiraInstances/1",
                json={"UseAllTicketTypes": False, "AllowedTicketTypeIDs": [helpdesk.types["Bug"]]},
            )
        )
        ticket = await create_ticket(sim_client)
        response = await sim_client.put(
            f"{API}/Tickets/{ticket['ID']}", json={"JiraKey": "NewJiraIssue"}
        )
        assert response.status_code == 400
        assert "AllowedTicketTypeIDs" in response.json()["Error"]["Message"]

    async def test_malformed_key_is_a_400(
        self, sim_client: httpx.AsyncClient, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client)
        response = await sim_client.put(f"{API}/Tickets/{ticket['ID']}", json={"JiraKey": "nope"})
        assert response.status_code == 400

    async def test_product_instance_is_used(
        self, sim_client: httpx.AsyncClient, helpdesk: Helpdesk
    ) -> None:
        other = await ok(await sim_client.post(f"{API}/JiraInstances", json={"Name": "Other"}), 201)
        product = await ok(
            await sim_client.post(
                f"{API}/Products",
                json={"Name": "P", "JiraInstanceID": other["JiraInstance"]["ID"]},
            ),
            201,
        )
        response = await sim_client.post(
            f"{API}/Tickets",
            json={
                "Name": "x",
                "TicketTypeName": "Task",
                "ProductID": product["Product"]["ID"],
                "JiraKey": "DEMO-1",
            },
        )
        assert response.status_code == 400
        assert "'Other' is not active" in response.json()["Error"]["Message"]

    async def test_empty_key_unlinks(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ticket = (await linked_ticket(sim_app, sim_client, jira_sim)).ticket
        answer = await ok(
            await sim_client.put(f"{API}/Tickets/{ticket['ID']}", json={"JiraKey": ""})
        )
        assert answer["Ticket"]["JiraSyncStatus"] == "None"
        assert answer["Ticket"]["JiraKey"] is None
        assert answer["Ticket"]["JiraInstanceID"] is None
        assert any("removed" in line for line in await history(sim_client, ticket["ID"]))

    async def test_xml_jira_key(
        self, sim_app: Any, sim_client: httpx.AsyncClient, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client)
        response = await sim_client.put(
            f"/api/xml/Tickets/{ticket['ID']}",
            content="<Ticket><JiraKey>newjiraissue</JiraKey></Ticket>",
            headers={"Content-Type": "application/xml"},
        )
        assert response.status_code == 200
        assert b"<JiraSyncStatus>Pending</JiraSyncStatus>" in response.content


@pytest.fixture
async def world(session: AsyncSession) -> LinkedWorld:
    """Ticket 1 linked to DEMO-1, ticket 2 not linked, through the simulator's instance."""
    made = await linked_world(session, 2, linked=False)
    await link(session, made.instance, "10040", "DEMO-1", made.tickets[:1])
    return made


class TestInstanceForTicket:
    async def test_the_one_asked_for_else_the_products_else_default(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        other = await make_instance(session, name="Other")
        plain = await ticket(session, world.tickets[1])
        assert (await instance_for_ticket(session, plain)).name == "Default"
        assert (await instance_for_ticket(session, plain, other.id)).name == "Other"
        product = await session.get(Product, plain.product_id)
        assert product is not None
        product.jira_instance_id = other.id
        assert (await instance_for_ticket(session, plain)).name == "Other"

    async def test_an_unknown_instance_is_the_callers_mistake(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        plain = await ticket(session, world.tickets[1])
        with pytest.raises(BadRequest, match="JiraInstanceID 999 does not exist."):
            await instance_for_ticket(session, plain, 999)


class TestApplyJiraKey:
    async def test_a_key_makes_the_ticket_pending_with_one_link_job(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        plain = await ticket(session, world.tickets[1])
        await apply_jira_key(session, plain, " demo-7 ", "ann")
        assert (plain.jira_sync_status, plain.jira_requested_key) == ("Pending", "DEMO-7")
        assert (plain.jira_instance_id, plain.jira_issue_ref) == (world.instance_id, None)
        (job,) = await queued_jobs(session)
        assert (job.kind, job.payload) == (
            LinkTicket.kind,
            {"ticket_id": plain.id, "key": "DEMO-7", "instance_id": world.instance_id},
        )
        assert await history_lines(session, plain.id or 0) == [
            "Jira link to DEMO-7 requested by ann"
        ]

    async def test_the_key_it_is_linked_to_already_changes_nothing(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        linked = await ticket(session, world.tickets[0])
        await apply_jira_key(session, linked, "DEMO-1", "ann")
        assert linked.jira_sync_status == "Linked"
        assert await queued_jobs(session) == []
        assert await history_lines(session, linked.id or 0) == []

    async def test_another_key_relinks(self, session: AsyncSession, world: LinkedWorld) -> None:
        linked = await ticket(session, world.tickets[0])
        await apply_jira_key(session, linked, "DEMO-2", "ann")
        assert (linked.jira_sync_status, linked.jira_issue_ref) == ("Pending", None)
        assert [job.payload["key"] for job in await queued_jobs(session)] == ["DEMO-2"]

    async def test_an_unlinked_ticket_is_not_unlinked_again(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        plain = await ticket(session, world.tickets[1])
        await apply_jira_key(session, plain, None, "ann")
        assert await history_lines(session, plain.id or 0) == []
        assert await count(session, SyncLog) == 0

    async def test_unlinking_is_logged(self, session: AsyncSession, world: LinkedWorld) -> None:
        linked = await ticket(session, world.tickets[0])
        await apply_jira_key(session, linked, "", "ann")
        assert (linked.jira_sync_status, linked.jira_instance_id) == ("None", None)
        (entry,) = await session.scalars(select(SyncLog))
        assert (entry.event, entry.message, entry.jira_key) == (
            "unlink",
            "Unlinked from DEMO-1 by ann",
            "DEMO-1",
        )

    @pytest.mark.parametrize(
        ("instance", "message"),
        [
            ({"sync_active": False}, "Jira instance 'Default' is not active (SyncActive is off)"),
            ({"host_name": ""}, "Jira instance 'Default' has no HostName yet."),
            (
                {"use_all_ticket_types": False},
                "Tickets of type 'Bug' are not synchronised with Jira instance 'Default' "
                "(not in its AllowedTicketTypeIDs).",
            ),
        ],
    )
    async def test_an_instance_that_cannot_link_refuses_at_once(
        self, session: AsyncSession, world: LinkedWorld, instance: dict[str, Any], message: str
    ) -> None:
        for name, value in instance.items():
            setattr(world.instance, name, value)
        plain = await ticket(session, world.tickets[1])
        with pytest.raises(BadRequest) as refused:
            await apply_jira_key(session, plain, "DEMO-7", "ann")
        assert refused.value.message.startswith(message)
        assert await queued_jobs(session) == []

    async def test_an_impossible_key_is_refused(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        plain = await ticket(session, world.tickets[1])
        with pytest.raises(BadRequest, match="neither an issue key"):
            await apply_jira_key(session, plain, "nope", "ann")


IGNORED = "NewJiraIssue from tester ignored: the ticket is already"
UNLINK_FIRST = "To link it to a fresh issue, unlink it first (an empty JiraKey)."


async def request_new_issue(app: Any, ticket_id: int) -> None:
    """The service call the API and the helpdesk events both end in, in a transaction of its own."""
    async with app.state.session_factory() as session:
        ticket = await session.get(Ticket, ticket_id)
        await apply_jira_key(session, ticket, "NewJiraIssue", "tester")
        await session.commit()


class TestNewJiraIssueOnALinkedTicket:
    async def test_is_a_no_op_logged_in_plain_words(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await drain(sim_app)
        linked = await get_ticket(sim_client, ticket["ID"])
        lines_before = await history(sim_client, ticket["ID"])
        await request_new_issue(sim_app, ticket["ID"])
        await drain(sim_app)
        after = await get_ticket(sim_client, ticket["ID"])
        assert (after["JiraSyncStatus"], after["JiraKey"]) == ("Linked", linked["JiraKey"])
        assert len(await jobs_of_kind(sim_app, LinkTicket.kind)) == 1
        assert len(sim_issues(jira_sim)) == 1
        assert await history(sim_client, ticket["ID"]) == lines_before
        (log,) = [row for row in await sync_logs(sim_app) if IGNORED in row.message]
        assert log.message == f"{IGNORED} linked to {linked['JiraKey']}. {UNLINK_FIRST}"
        assert (log.ticket_id, log.jira_key, log.status) == (ticket["ID"], linked["JiraKey"], "Ok")

    async def test_through_put_answers_the_unchanged_link(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await drain(sim_app)
        key = (await get_ticket(sim_client, ticket["ID"]))["JiraKey"]
        answer = await ok(
            await sim_client.put(f"{API}/Tickets/{ticket['ID']}", json={"JiraKey": "NewJiraIssue"})
        )
        assert (answer["Ticket"]["JiraSyncStatus"], answer["Ticket"]["JiraKey"]) == ("Linked", key)
        await drain(sim_app)
        assert len(await jobs_of_kind(sim_app, LinkTicket.kind)) == 1
        assert len(sim_issues(jira_sim)) == 1

    async def test_after_unlinking_a_fresh_issue_is_created(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await drain(sim_app)
        first = (await get_ticket(sim_client, ticket["ID"]))["JiraKey"]
        await ok(await sim_client.put(f"{API}/Tickets/{ticket['ID']}", json={"JiraKey": ""}))
        await request_new_issue(sim_app, ticket["ID"])
        await drain(sim_app)
        again = await get_ticket(sim_client, ticket["ID"])
        assert again["JiraSyncStatus"] == "Linked"
        assert again["JiraKey"] != first
        assert len(sim_issues(jira_sim)) == 2


class TestNewJiraIssueOnAPendingTicket:
    async def test_is_a_no_op_and_one_issue_is_created(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await request_new_issue(sim_app, ticket["ID"])
        assert len(await jobs_of_kind(sim_app, LinkTicket.kind)) == 1
        (log,) = [row for row in await sync_logs(sim_app) if IGNORED in row.message]
        assert log.message == f"{IGNORED} being linked to a new issue. {UNLINK_FIRST}"
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Linked"
        assert len(sim_issues(jira_sim)) == 1

    async def test_being_linked_to_an_existing_key_is_named(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        issue = jira_sim.create_issue("DEMO", "Existing problem")
        ticket = await create_ticket(sim_client, JiraKey=issue.key)
        await request_new_issue(sim_app, ticket["ID"])
        (log,) = [row for row in await sync_logs(sim_app) if IGNORED in row.message]
        assert log.message == f"{IGNORED} being linked to {issue.key}. {UNLINK_FIRST}"
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraKey"] == issue.key
        assert len(sim_issues(jira_sim)) == 1


class TestNewJiraIssueOnATicketInError:
    async def test_may_ask_again(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        await ok(await sim_client.put(f"{API}/JiraInstances/1", json={"DefaultProjectKey": "NOPE"}))
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Error"
        await ok(await sim_client.put(f"{API}/JiraInstances/1", json={"DefaultProjectKey": "DEMO"}))
        await request_new_issue(sim_app, ticket["ID"])
        assert len(await jobs_of_kind(sim_app, LinkTicket.kind)) == 2
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Linked"
        assert len(sim_issues(jira_sim)) == 1
