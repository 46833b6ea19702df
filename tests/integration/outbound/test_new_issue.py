"""`NewJiraIssue`: the issue created from a ticket (project, type, fields), and its failures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.integration.job_kinds import RefreshIssue
from tests.support.helpdesk import (
    API,
    Helpdesk,
    add_product,
    create_ticket,
    get_ticket,
    history,
    ok,
)
from tests.support.outbound import drain, jobs_of_kind, sim_issues, sync_logs


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

    @pytest.mark.parametrize(
        ("case", "expected_project"),
        [
            ("always_default", "DEMO"),
            ("version_key", "SUP"),
            ("product_key", "SUP"),
            ("product_name", "SUP"),
            ("default_key", "DEMO"),
        ],
    )
    async def test_project_key_precedence(
        self,
        sim_app: Any,
        sim_client: httpx.AsyncClient,
        jira_sim: Any,
        helpdesk: Helpdesk,
        case: str,
        expected_project: str,
    ) -> None:
        elements: dict[str, Any] = {}
        if case == "always_default":
            await ok(
                await sim_client.put(
                    f"{API}/JiraInstances/1", json={"AlwaysUseDefaultProjectKey": True}
                )
            )
            product = await add_product(sim_client, helpdesk, "Widget", "SUP")
            elements = {"ProductID": product}
        elif case == "version_key":
            product = await add_product(sim_client, helpdesk, "Widget", "DEMO")
            await ok(
                await sim_client.post(
                    f"{API}/Products/{product}/Versions",
                    json={"VersionNumber": "1.0", "JiraProjectKey": "SUP"},
                ),
                201,
            )
            elements = {"ProductID": product, "ReportedVersion": "1.0"}
        elif case == "product_key":
            product = await add_product(sim_client, helpdesk, "Widget", "SUP")
            elements = {"ProductID": product}
        elif case == "product_name":
            product = await add_product(sim_client, helpdesk, "SUP")
            elements = {"ProductID": product}
        ticket = await create_ticket(sim_client, JiraKey="NewJiraIssue", **elements)
        await drain(sim_app)
        answer = await get_ticket(sim_client, ticket["ID"])
        assert answer["JiraSyncStatus"] == "Linked", await history(sim_client, ticket["ID"])
        assert answer["JiraKey"].startswith(f"{expected_project}-")
        assert len(sim_issues(jira_sim)) == 1

    async def test_issue_type_from_the_ticket_type_mapping(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        await ok(
            await sim_client.post(
                f"{API}/JiraInstances/1/Mappings",
                json={
                    "MappingType": "TicketType",
                    "JiraField": "Story",
                    "TeamSupportField": "Task",
                },
            ),
            201,
        )
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
        await ok(
            await sim_client.post(
                f"{API}/JiraInstances/1/Mappings",
                json={
                    "MappingType": "Ticket",
                    "JiraField": "Severity",
                    "TeamSupportField": "Urgency",
                },
            ),
            201,
        )
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
