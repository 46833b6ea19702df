"""`jira.link_ticket` against the in-process simulator: linking to an existing issue. (JiraKey
requests refused at once: test_link_request.py.)"""

from __future__ import annotations

from typing import Any

import httpx

from app.integration.job_kinds import RefreshIssue
from tests.conftest import BOTH_JIRAS, SIM_BASE_URL
from tests.support.helpdesk import API, create_ticket, get_ticket, history, ok
from tests.support.jobs import drain, jobs_of_kind
from tests.support.outbound import sim_issues, sync_logs
from tests.support.world import Helpdesk, linked_ticket

pytestmark = BOTH_JIRAS


class TestLinkExistingIssue:
    async def test_links_without_creating_and_adds_one_remote_link(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        issue = jira_sim.create_issue("DEMO", "Existing problem")
        before = len(sim_issues(jira_sim))
        ticket = await create_ticket(sim_client, JiraKey=issue.key.lower())
        assert ticket["JiraSyncStatus"] == "Pending"
        assert ticket["JiraKey"] == issue.key
        await drain(sim_app)
        linked = await get_ticket(sim_client, ticket["ID"])
        assert linked["JiraSyncStatus"] == "Linked"
        assert linked["JiraKey"] == issue.key
        assert linked["JiraLinkURL"] == f"{SIM_BASE_URL}/browse/{issue.key}"
        assert len(sim_issues(jira_sim)) == before
        (link,) = jira_sim.issue(issue.key).remote_links
        assert link.global_id == f"helpdesk-ticket-{ticket['ID']}"
        assert link.data["object"]["url"].endswith(f"/Tickets/{ticket['ID']}")
        (refresh,) = await jobs_of_kind(sim_app, RefreshIssue.kind)
        assert refresh.payload["issue_id"] == issue.id
        assert refresh.ordering_key == f"issue:1:{issue.id}"

    async def test_a_failed_first_remote_link_call_still_gives_one_link(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        issue = jira_sim.create_issue("DEMO", "Existing problem")
        jira_sim.add_fault("POST", "/remotelink$", status=500, after_write=True, times=1)
        ticket = await create_ticket(sim_client, JiraKey=issue.key)
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Linked"
        assert len(jira_sim.issue(issue.key).remote_links) == 1

    async def test_relinking_twice_keeps_one_remote_link(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        linked = await linked_ticket(sim_app, sim_client, jira_sim)
        path, key = f"{API}/Tickets/{linked.ticket['ID']}", linked.issue_key
        await ok(await sim_client.put(path, json={"JiraKey": ""}))
        await ok(await sim_client.put(path, json={"JiraKey": key}))
        await drain(sim_app)
        assert len(jira_sim.issue(key).remote_links) == 1

    async def test_one_issue_links_many_tickets(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        issue = jira_sim.create_issue("DEMO", "Shared")
        first = await create_ticket(sim_client, JiraKey=issue.key)
        second = await create_ticket(sim_client, Name="Same again", JiraKey=issue.key)
        await drain(sim_app)
        for ticket in (first, second):
            assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Linked"
        assert len(jira_sim.issue(issue.key).remote_links) == 2

    async def test_unknown_issue_ends_in_error_with_history(
        self, sim_app: Any, sim_client: httpx.AsyncClient, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="DEMO-999")
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Error"
        lines = await history(sim_client, ticket["ID"])
        assert any("DEMO-999 does not exist" in line for line in lines)
        (error,) = await sync_logs(sim_app, errors_only=True)
        assert error.ticket_id == ticket["ID"]
