"""JiraInstances, Mappings and Test through the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.core.settings import Settings
from app.integration.models import JiraInstance
from app.main import create_app
from tests.conftest import SIM_BASE_URL, SIM_TOKEN, SIM_USER, api_client, started
from tests.support import server_errors
from tests.support.helpdesk import API, ok
from tests.support.world import configure_default_instance, seed_helpdesk


class TestJiraInstances:
    async def test_default_exists_and_secrets_are_write_only(
        self, client: httpx.AsyncClient, session: Any
    ) -> None:
        answer = await ok(await client.get(f"{API}/JiraInstances"))
        (default,) = answer["JiraInstances"]
        assert default["Name"] == "Default"
        assert default["WebhookURL"] == "http://helpdesk.test/webhooks/jira/1"
        changed = await ok(
            await client.put(
                f"{API}/JiraInstances/1",
                json={"ApiToken": "s3cret-token", "WebhookSecret": "hook-secret-0123456789"},
            )
        )
        assert "ApiToken" not in changed["JiraInstance"]
        assert "WebhookSecret" not in changed["JiraInstance"]
        stored = await session.scalar(select(JiraInstance).where(JiraInstance.id == 1))
        assert stored.api_token_encrypted
        assert "s3cret" not in stored.api_token_encrypted

    async def test_create_with_every_field(self, client: httpx.AsyncClient) -> None:
        helpdesk = await seed_helpdesk(client)
        body = {
            "Name": "Server",
            "HostName": "http://jira.corp.local:8080/",
            "UserName": "svc",
            "ApiToken": "pat",
            "AuthMethod": "Bearer",
            "DefaultProjectKey": "ops",
            "ActionTypeToPush": "comment",
            "UpdateTicketStatus": True,
            "SyncActive": True,
            "AlwaysUseDefaultProjectKey": True,
            "IncludeNonRequiredFields": True,
            "UseAllTicketTypes": False,
            "AllowedTicketTypeIDs": [helpdesk.types["Bug"]],
            "WebhookSecret": "w" * 16,
        }
        created = (await ok(await client.post(f"{API}/JiraInstances", json=body), 201))[
            "JiraInstance"
        ]
        assert created["HostName"] == "http://jira.corp.local:8080"
        assert created["DefaultProjectKey"] == "OPS"
        assert created["ActionTypeToPush"] == "Comment"
        assert created["AllowedTicketTypeIDs"] == [helpdesk.types["Bug"]]
        assert created["AuthMethod"] == "Bearer"
        assert created["WebhookURL"].endswith(f"/webhooks/jira/{created['ID']}")
        cleared = await ok(
            await client.put(
                f"{API}/JiraInstances/{created['ID']}", json={"ActionTypeToPush": None}
            )
        )
        assert cleared["JiraInstance"]["ActionTypeToPush"] is None

    async def test_xml_answers_too(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/xml/JiraInstances/1")
        assert response.status_code == 200
        assert b"<Name>Default</Name>" in response.content

    async def test_crm_property_field_in_json_and_xml(self, client: httpx.AsyncClient) -> None:
        put = await ok(
            await client.put(f"{API}/JiraInstances/1", json={"CrmPropertyField": " CRM Property "})
        )
        assert put["JiraInstance"]["CrmPropertyField"] == "CRM Property"
        as_xml = await client.put(
            "/api/xml/JiraInstances/1",
            content=b"<JiraInstance><CrmPropertyField>customfield_10050</CrmPropertyField>"
            b"</JiraInstance>",
            headers={"Content-Type": "application/xml"},
        )
        assert as_xml.status_code == 200, as_xml.text
        assert b"<CrmPropertyField>customfield_10050</CrmPropertyField>" in as_xml.content
        got = await ok(await client.get(f"{API}/JiraInstances/1"))
        assert got["JiraInstance"]["CrmPropertyField"] == "customfield_10050"
        for cleared in (None, "  "):
            answer = await ok(
                await client.put(f"{API}/JiraInstances/1", json={"CrmPropertyField": cleared})
            )
            assert answer["JiraInstance"]["CrmPropertyField"] is None
        too_long = await client.put(f"{API}/JiraInstances/1", json={"CrmPropertyField": "x" * 256})
        assert too_long.status_code == 400

    async def test_default_cannot_be_renamed_or_deleted(self, client: httpx.AsyncClient) -> None:
        renamed = await client.put(f"{API}/JiraInstances/1", json={"Name": "Other"})
        assert renamed.status_code == 409
        assert "cannot be renamed" in renamed.json()["Error"]["Message"]
        deleted = await client.delete(f"{API}/JiraInstances/1")
        assert deleted.status_code == 409

    async def test_other_instances_can_be_deleted(self, client: httpx.AsyncClient) -> None:
        created = await ok(await client.post(f"{API}/JiraInstances", json={"Name": "B"}), 201)
        ident = created["JiraInstance"]["ID"]
        assert (await client.delete(f"{API}/JiraInstances/{ident}")).status_code == 204
        assert (await client.get(f"{API}/JiraInstances/{ident}")).status_code == 404

    async def test_metadata_host_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.put(
            f"{API}/JiraInstances/1", json={"HostName": "http://169.254.169.254"}
        )
        assert response.status_code == 400
        assert "link-local" in response.json()["Error"]["Message"]

    async def test_unknown_action_type_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.put(f"{API}/JiraInstances/1", json={"ActionTypeToPush": "Nope"})
        assert response.status_code == 400

    async def test_webhook_url_is_read_only(self, client: httpx.AsyncClient) -> None:
        response = await client.put(f"{API}/JiraInstances/1", json={"WebhookURL": "x"})
        assert response.status_code == 400


ODD_HOSTS = [
    "http://0251.0376.0251.0376",
    "http://0177.0.0.1:8099",
    "http://a..b",
    "http://xn--",
    "http://" + "a" * 70 + ".example",
]


@pytest.mark.parametrize("host", ODD_HOSTS)
async def test_a_host_name_no_client_connects_to_alike_is_refused_by_put(
    client: httpx.AsyncClient, host: str
) -> None:
    before = await ok(await client.get(f"{API}/JiraInstances/1"))
    response = await client.put(f"{API}/JiraInstances/1", json={"HostName": host, "ApiToken": None})
    assert response.status_code == 400
    assert response.json()["Error"]["Message"].startswith("HostName ")
    assert await ok(await client.get(f"{API}/JiraInstances/1")) == before


class TestMappings:
    async def test_add_list_delete(self, client: httpx.AsyncClient) -> None:
        await seed_helpdesk(client)
        await ok(
            await client.post(f"{API}/CustomFields", json={"Name": "Urgency", "FieldType": "Text"}),
            201,
        )
        first = await ok(
            await client.post(
                f"{API}/JiraInstances/1/Mappings",
                json={
                    "MappingType": "Ticket",
                    "JiraField": "Severity",
                    "TeamSupportField": "urgency",
                },
            ),
            201,
        )
        assert first["Mapping"]["TeamSupportField"] == "Urgency"
        await ok(
            await client.post(
                f"{API}/JiraInstances/1/Mappings",
                json={
                    "MappingType": "TicketType",
                    "JiraField": "Story",
                    "TeamSupportField": "Task",
                },
            ),
            201,
        )
        listed = await ok(await client.get(f"{API}/JiraInstances/1/Mappings"))
        assert [m["JiraField"] for m in listed["Mappings"]] == ["Severity", "Story"]
        mapping_id = first["Mapping"]["ID"]
        assert (
            await client.delete(f"{API}/JiraInstances/1/Mappings/{mapping_id}")
        ).status_code == 204
        assert len((await ok(await client.get(f"{API}/JiraInstances/1/Mappings")))["Mappings"]) == 1

    async def test_unknown_helpdesk_field_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            f"{API}/JiraInstances/1/Mappings",
            json={"MappingType": "TicketType", "JiraField": "Bug", "TeamSupportField": "Nope"},
        )
        assert response.status_code == 400


class TestConnectionTest:
    async def test_good_credentials(self, sim_client: httpx.AsyncClient) -> None:
        await configure_default_instance(sim_client)
        answer = await ok(await sim_client.post(f"{API}/JiraInstances/1/Test"))
        assert answer["Test"]["Success"] is True
        assert answer["Test"]["User"] == "Helpdesk Integration"

    async def test_wrong_token_is_said_in_plain_words(self, sim_client: httpx.AsyncClient) -> None:
        await configure_default_instance(sim_client, token="wrong-token")
        answer = await ok(await sim_client.post(f"{API}/JiraInstances/1/Test"))
        assert answer["Test"]["Success"] is False
        assert answer["Test"]["Message"].startswith(
            f"Jira rejected the credentials for user {SIM_USER}:"
        )

    async def test_missing_link_permission_is_named(
        self, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        jira_sim.revoke_permissions("integration", "LINK_ISSUES")
        await configure_default_instance(sim_client)
        answer = await ok(await sim_client.post(f"{API}/JiraInstances/1/Test"))
        assert answer["Test"]["Success"] is False
        assert answer["Test"]["MissingPermissions"] == ["LINK_ISSUES"]
        assert "Link Issues" in answer["Test"]["Message"]

    @pytest.mark.parametrize(
        ("configured", "success", "words"),
        [
            ("CRM Property", True, "Connected to"),
            ("crm property", True, "Connected to"),
            ("customfield_10012", True, "Connected to"),  # by id
            ("CRM Propertee", False, "'CRM Propertee' is not a field of this Jira"),
            ("Severity", False, "an option field: setcrmproperties writes text"),
        ],
    )
    async def test_crm_property_field_is_checked_against_jiras_fields(
        self,
        sim_client: httpx.AsyncClient,
        jira_sim: Any,
        configured: str,
        success: bool,
        words: str,
    ) -> None:
        assert jira_sim.add_field("CRM Property", "string").id == "customfield_10012"
        await configure_default_instance(sim_client)
        await ok(
            await sim_client.put(f"{API}/JiraInstances/1", json={"CrmPropertyField": configured})
        )
        test = (await ok(await sim_client.post(f"{API}/JiraInstances/1/Test")))["Test"]
        assert (test["Success"], test["User"]) == (success, "Helpdesk Integration")
        assert words in test["Message"]

    async def test_a_missing_permission_and_a_wrong_crm_field_are_both_told(
        self, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        jira_sim.revoke_permissions("integration", "LINK_ISSUES")
        await configure_default_instance(sim_client)
        await ok(await sim_client.put(f"{API}/JiraInstances/1", json={"CrmPropertyField": "Nope"}))
        test = (await ok(await sim_client.post(f"{API}/JiraInstances/1/Test")))["Test"]
        assert test["MissingPermissions"] == ["LINK_ISSUES"]
        assert "Link Issues" in test["Message"]
        assert "'Nope' is not a field of this Jira" in test["Message"]

    async def test_each_call_is_tried_once_and_jiras_answer_is_shown(
        self, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await configure_default_instance(sim_client)
        unavailable = jira_sim.add_fault("GET", "/rest/api/2/myself", status=503, times=None)
        answer = await ok(await sim_client.post(f"{API}/JiraInstances/1/Test"))
        assert answer["Test"]["Success"] is False
        assert "Service Unavailable" in answer["Test"]["Message"]
        assert unavailable.hits == 1

    async def test_a_jira_that_never_answers_is_reported_at_the_deadline(
        self, impatient_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await configure_default_instance(impatient_client)
        jira_sim.add_fault("GET", "/rest/api/2/myself", delay=3600, times=None)
        async with asyncio.timeout(30):  # without the deadline the answer would never come
            answer = await ok(await impatient_client.post(f"{API}/JiraInstances/1/Test"))
        assert answer["Test"] == {
            "Success": False,
            "Message": (
                f"Jira at {SIM_BASE_URL} did not answer within 0.2 seconds. Check HostName, "
                "and that this server can reach it (DNS, proxy, firewall)."
            ),
            "User": None,
            "MissingPermissions": [],
            "Webhook": None,
            "WebhookMessage": None,
        }


@pytest.fixture
async def impatient_client(
    make_settings: Callable[..., Settings], db: Any, jira_sim: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The simulator-backed app with a 0.2 s deadline for an instance's Test."""
    settings = make_settings(jira_test_timeout_seconds=0.2, jira_retry_base_seconds=0.0)
    application = create_app(settings, jira_transport=httpx.ASGITransport(app=jira_sim.app))
    server_errors.install(application)
    async with started(application), api_client(application) as http:
        yield http


class TestTheStoredTokenStaysWithItsHost:
    async def test_a_host_name_change_without_the_token_sends_nothing_to_the_new_host(
        self, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await configure_default_instance(sim_client, SIM_BASE_URL, SIM_USER, SIM_TOKEN)
        moved = await sim_client.put(
            f"{API}/JiraInstances/1", json={"HostName": "http://attacker.example.com"}
        )
        assert moved.status_code == 400
        assert moved.json()["Error"]["Message"].startswith("Changing HostName needs ApiToken again")
        answer = await ok(await sim_client.get(f"{API}/JiraInstances/1"))
        assert answer["JiraInstance"]["HostName"] == SIM_BASE_URL
        jira_sim.request_log.clear()
        await ok(await sim_client.post(f"{API}/JiraInstances/1/Test"))
        assert {entry.headers.get("host") for entry in jira_sim.request_log.entries} == {
            "jira.test"
        }

    async def test_a_host_name_change_with_a_null_token_clears_it(
        self, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await configure_default_instance(sim_client, SIM_BASE_URL, SIM_USER, SIM_TOKEN)
        await ok(
            await sim_client.put(
                f"{API}/JiraInstances/1",
                json={"HostName": "http://attacker.example.com", "ApiToken": None},
            )
        )
        jira_sim.request_log.clear()
        test = (await ok(await sim_client.post(f"{API}/JiraInstances/1/Test")))["Test"]
        assert test["Success"] is False
        assert "no ApiToken" in test["Message"]
        assert [e for e in jira_sim.request_log.entries if e.auth_scheme is not None] == []


class TestWebhookSecretLength:
    @pytest.mark.parametrize("secret", ["w", "fifteen-chars-x"])
    async def test_a_short_webhook_secret_is_refused_saying_the_minimum(
        self, client: httpx.AsyncClient, session: Any, secret: str
    ) -> None:
        response = await client.put(f"{API}/JiraInstances/1", json={"WebhookSecret": secret})
        assert response.status_code == 400
        message = response.json()["Error"]["Message"]
        assert message.startswith("WebhookSecret must be at least 16 characters long")
        stored = await session.scalar(select(JiraInstance).where(JiraInstance.id == 1))
        assert stored.webhook_secret_encrypted is None

    async def test_sixteen_characters_are_enough_and_null_clears_it(
        self, client: httpx.AsyncClient, session: Any
    ) -> None:
        await ok(await client.put(f"{API}/JiraInstances/1", json={"WebhookSecret": "s" * 16}))
        await ok(await client.put(f"{API}/JiraInstances/1", json={"WebhookSecret": None}))
        stored = await session.scalar(select(JiraInstance).where(JiraInstance.id == 1))
        assert stored.webhook_secret_encrypted is None

    async def test_a_new_instance_with_a_short_secret_is_not_created(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            f"{API}/JiraInstances", json={"Name": "Short", "WebhookSecret": "abc"}
        )
        assert response.status_code == 400
        listed = await ok(await client.get(f"{API}/JiraInstances"))
        assert [i["Name"] for i in listed["JiraInstances"]] == ["Default"]
