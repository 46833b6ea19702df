"""A ticket's `JiraKey` request (`outbound/link_request.py`): NewJiraIssue on a ticket already
linked or being linked is a logged no-op; linking to a fresh issue needs unlinking first."""

from __future__ import annotations

from typing import Any

import httpx

from app.helpdesk.models import Ticket
from app.integration.job_kinds import LinkTicket
from app.integration.outbound.link_request import apply_jira_key
from tests.support.helpdesk import API, Helpdesk, create_ticket, get_ticket, history, ok
from tests.support.outbound import drain, jobs_of_kind, sim_issues, sync_logs

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
