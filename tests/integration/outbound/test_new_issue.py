"""`NewJiraIssue`: the issue created from a ticket (project, type, fields), and its failures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.integration.job_kinds import RefreshIssue
from tests.conftest import BOTH_JIRAS
from tests.support.helpdesk import API, create_ticket, get_ticket, history, ok
from tests.support.jobs import drain, jobs_of_kind
from tests.support.outbound import sim_issues, sync_logs
from tests.support.project_keys import PROJECT_KEY_CASES, ProjectKeyCase
from tests.support.world import Helpdesk, add_mapping_through_api, add_product

pytestmark = BOTH_JIRAS


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
