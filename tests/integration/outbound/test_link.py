"""`jira.link_ticket` against the in-process simulator: linking, creating, failing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from app.core.db import utcnow
from app.integration.job_kinds import RefreshIssue
from app.jobs.models import SyncJob
from tests.conftest import SIM_BASE_URL
from tests.support.helpdesk import API, create_ticket, get_ticket, history, ok
from tests.support.jobs import drain, jobs_of_kind
from tests.support.outbound import sim_issues, sim_requests, sync_logs
from tests.support.project_keys import PROJECT_KEY_CASES, ProjectKeyCase
from tests.support.world import Helpdesk, add_mapping_through_api, add_product, linked_ticket


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


class TestNewJiraIssue:
    async def test_creates_one_issue_with_summary_description_and_property(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ticket = await create_ticket(
            sim_client, Name="Printer on fire", Description="Smoke", JiraKey="newjiraissue"
        )
        assert ticket["JiraSyncStatus"] == "Pending"
        await drain(sim_app)
        answer = await get_ticket(sim_client, ticket["ID"])
        assert answer["JiraSyncStatus"] == "Linked"
        (issue,) = sim_issues(jira_sim)
        assert answer["JiraKey"] == issue.key
        assert issue.key.startswith("DEMO-")
        assert issue.values["summary"] == "Printer on fire"
        assert issue.values["description"] == "Smoke"
        assert issue.properties["helpdesk-sync"]["ticketId"] == ticket["ID"]
        assert len(issue.remote_links) == 1
        assert await jobs_of_kind(sim_app, RefreshIssue.kind) == []

    @pytest.mark.parametrize("case", PROJECT_KEY_CASES)
    async def test_project_key_precedence(
        self,
        sim_app: Any,
        sim_client: httpx.AsyncClient,
        jira_sim: Any,
        helpdesk: Helpdesk,
        case: ProjectKeyCase,
    ) -> None:
        elements = await case.set_up(sim_client, helpdesk)
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue", **elements)
        await drain(sim_app)
        answer = await get_ticket(sim_client, ticket["ID"])
        assert answer["JiraSyncStatus"] == "Linked", await history(sim_client, ticket["ID"])
        assert answer["JiraKey"].startswith(f"{case.expected}-")
        assert len(sim_issues(jira_sim)) == 1

    async def test_issue_type_from_the_ticket_type_mapping(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        await add_mapping_through_api(sim_client, "TicketType", "Story", "Task")
        await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await drain(sim_app)
        (issue,) = sim_issues(jira_sim)
        assert jira_sim.state.issue_types[issue.issue_type_id].name == "Story"

    async def test_required_mapped_field_is_converted_and_sent(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        await ok(
            await sim_client.post(
                f"{API}/CustomFields",
                json={
                    "Name": "Urgency",
                    "FieldType": "PickList",
                    "PickListValues": ["High", "Low"],
                },
            ),
            201,
        )
        await add_mapping_through_api(sim_client, "Ticket", "Severity", "Urgency")
        product = await add_product(sim_client, helpdesk, "Support", "SUP")
        ticket = await create_ticket(
            sim_client,
            TicketTypeName="Bug",
            ProductID=product,
            Urgency="high",
            JiraKey="NewJiraIssue",
        )
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Linked"
        (issue,) = sim_issues(jira_sim, "SUP")
        fields = jira_sim.get_issue(issue.key)["fields"]
        assert fields[jira_sim.field_id("Severity")]["value"] == "High"

    async def test_missing_required_field_ends_in_error_with_jiras_words(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        product = await add_product(sim_client, helpdesk, "Support", "SUP")
        ticket = await create_ticket(
            sim_client, TicketTypeName="Bug", ProductID=product, JiraKey="NewJiraIssue"
        )
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Error"
        (error,) = await sync_logs(sim_app, errors_only=True)
        assert "Severity" in error.message
        assert f"Jira sync error: {error.message}" in await history(sim_client, ticket["ID"])
        assert sim_issues(jira_sim) == []

    async def test_server_errors_then_ok_still_make_one_issue(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        jira_sim.add_fault("POST", "/rest/api/2/issue$", status=500, times=3)
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Linked"
        assert len(sim_issues(jira_sim)) == 1

    async def test_a_create_whose_answer_was_lost_is_found_not_repeated(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        jira_sim.add_fault("POST", "/rest/api/2/issue$", status=502, after_write=True, times=1)
        ticket = await create_ticket(
            sim_client, Name="Crash: login (again)!", JiraKey="NewJiraIssue"
        )
        await drain(sim_app)
        answer = await get_ticket(sim_client, ticket["ID"])
        assert answer["JiraSyncStatus"] == "Linked"
        (issue,) = sim_issues(jira_sim)
        assert answer["JiraKey"] == issue.key
        assert sim_requests(jira_sim, "POST", "/rest/api/2/search")

    async def test_a_lost_create_is_looked_for_only_once_jiras_index_has_caught_up(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ctx = sim_app.state.worker_context
        ctx.settings = ctx.settings.model_copy(update={"jira_search_settle_seconds": 30.0})
        jira_sim.state.search_lag = timedelta(hours=1)  # a new issue is not searchable yet
        jira_sim.add_fault("POST", "/rest/api/2/issue$", status=502, after_write=True, times=1)
        ticket = await create_ticket(sim_client, Name="Lost answer", JiraKey="NewJiraIssue")
        await drain(sim_app)
        # A retry now would search, miss the unindexed issue and create a second one: it waits.
        assert len(sim_issues(jira_sim)) == 1
        async with sim_app.state.session_factory() as session:
            job = await session.scalar(
                select(SyncJob).where(col(SyncJob.kind) == "jira.link_ticket")
            )
        assert job.status == "queued"
        assert job.run_after - utcnow() > timedelta(seconds=25)
        assert "may have been created" in (job.last_error or "")
        jira_sim.state.search_lag = timedelta(0)  # the index has caught up
        async with sim_app.state.session_factory() as session, session.begin():
            await session.execute(update(SyncJob).values(run_after=utcnow()))
        await drain(sim_app)
        answer = await get_ticket(sim_client, ticket["ID"])
        (issue,) = sim_issues(jira_sim)
        assert (answer["JiraSyncStatus"], answer["JiraKey"]) == ("Linked", issue.key)

    async def test_wrong_credentials_are_an_instance_error_not_in_history(
        self, sim_app: Any, sim_client: httpx.AsyncClient, helpdesk: Helpdesk
    ) -> None:
        await ok(await sim_client.put(f"{API}/JiraInstances/1", json={"ApiToken": "wrong"}))
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue")
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Error"
        (error,) = await sync_logs(sim_app, errors_only=True)
        assert "credentials" in error.message
        assert not any(
            "Jira sync error" in line for line in await history(sim_client, ticket["ID"])
        )
