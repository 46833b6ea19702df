"""The Jira Integration screen in process: Save, refusals next to their field (and nothing of
them kept), the write-only token, Test Connection, Reconcile now, Delete, Custom Mappings."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import SIM_BASE_URL, SIM_TOKEN, SIM_USER
from tests.console.conftest import console_client, csrf_of, signed_in_client
from tests.support.helpdesk import API, ok
from tests.support.world import seed_helpdesk


@pytest.fixture
async def console(sim_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with console_client(sim_app) as client:
        await signed_in_client(client)
        yield client


def settings_form(csrf: str, **changes: str | None) -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf_token": csrf,
        "host_name": SIM_BASE_URL,
        "user_name": SIM_USER,
        "api_token": SIM_TOKEN,
        "api_token_confirm": SIM_TOKEN,
        "auth_method": "Basic",
        "default_project_key": "demo",
        "action_type_to_push": "",
        "sync_active": "on",
        "use_all_ticket_types": "on",
        "webhook_secret": "",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


async def save(
    console: httpx.AsyncClient, path: str = "/console/jira/1", **changes: str | None
) -> httpx.Response:
    csrf = await csrf_of(console, "/console/jira")
    return await console.post(path, data=settings_form(csrf, **changes))


def error_next_to(page: str, field: str) -> str:
    """The refusal shown under a field, which points at it (aria-describedby)."""
    assert f'aria-describedby="{field}-error"' in page, page
    match = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', page)
    assert match, page
    return match.group(1)


class TestSave:
    async def test_saving_configures_the_instance(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        response = await save(console)
        assert (response.status_code, response.headers["location"]) == (
            303,
            "/console/jira?instance=1&notice=saved",
        )
        instance = (await ok(await sim_client.get(f"{API}/JiraInstances/1")))["JiraInstance"]
        assert (instance["HostName"], instance["UserName"]) == (SIM_BASE_URL, SIM_USER)
        assert (instance["DefaultProjectKey"], instance["SyncActive"]) == ("DEMO", True)
        page = (await console.get(response.headers["location"])).text
        assert "Saved." in page
        assert "A token is set; leave empty to keep it." in page
        assert SIM_TOKEN not in page  # write-only

    async def test_the_crm_property_field_is_saved_and_shown(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        await save(console, crm_property_field="Customer")
        instance = (await ok(await sim_client.get(f"{API}/JiraInstances/1")))["JiraInstance"]
        assert instance["CrmPropertyField"] == "Customer"
        page = (await console.get("/console/jira?instance=1")).text
        assert (
            'id="crm_property_field" name="crm_property_field" type="text" value="Customer"' in page
        )

    async def test_a_refusal_is_shown_next_to_its_field_in_the_apis_words(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        response = await save(console, webhook_secret="short")
        assert response.status_code == 400
        api = await sim_client.put(f"{API}/JiraInstances/1", json={"WebhookSecret": "short"})
        assert error_next_to(response.text, "webhook_secret") == api.json()["Error"]["Message"]

    async def test_nothing_of_a_refused_save_is_kept(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        response = await save(console, user_name="someone-else", action_type_to_push="Nope")
        assert "is not an action type" in error_next_to(response.text, "action_type_to_push")
        assert 'value="someone-else"' in response.text  # what was typed is kept on the screen
        instance = (await ok(await sim_client.get(f"{API}/JiraInstances/1")))["JiraInstance"]
        assert instance["UserName"] == ""  # and nothing in the database

    async def test_the_token_and_its_confirmation_must_match(
        self, console: httpx.AsyncClient
    ) -> None:
        response = await save(console, api_token_confirm="typo")
        assert error_next_to(response.text, "api_token_confirm") == (
            "Confirm Jira API Token does not match Jira API Token."
        )
        assert SIM_TOKEN not in response.text

    async def test_the_default_instance_keeps_its_name(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        await save(console, name="Renamed")
        instance = (await ok(await sim_client.get(f"{API}/JiraInstances/1")))["JiraInstance"]
        assert instance["Name"] == "Default"

    async def test_create_then_delete_another_instance(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        created = await save(console, "/console/jira", name="Server")
        assert created.status_code == 303
        location = created.headers["location"]
        instance_id = int(re.search(r"instance=(\d+)", location).group(1))  # type: ignore[union-attr]
        page = (await console.get(location)).text
        assert "Instance created." in page
        assert f'formaction="/console/jira/{instance_id}/delete"' in page
        csrf = await csrf_of(console, "/console/jira")
        deleted = await console.post(
            f"/console/jira/{instance_id}/delete", data={"csrf_token": csrf}
        )
        assert deleted.headers["location"] == "/console/jira?notice=deleted"
        assert (await sim_client.get(f"{API}/JiraInstances/{instance_id}")).status_code == 404

    async def test_the_default_instance_offers_no_delete(self, console: httpx.AsyncClient) -> None:
        assert "/delete" not in (await console.get("/console/jira")).text


class TestActions:
    async def test_test_connection_shows_the_plain_words_answer(
        self, console: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await save(console)
        csrf = await csrf_of(console, "/console/jira")
        page = (await console.post("/console/jira/1/test", data={"csrf_token": csrf})).text
        assert '<p class="notice" role="status" id="test-result">' in page

    async def test_a_failed_test_says_why(self, console: httpx.AsyncClient) -> None:
        csrf = await csrf_of(console, "/console/jira")
        page = (await console.post("/console/jira/1/test", data={"csrf_token": csrf})).text
        assert "The instance has no HostName yet." in page

    async def test_register_webhook_creates_the_one_webhook_in_jira(
        self, console: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await save(console, webhook_secret="a-webhook-secret-long-enough-0123")
        csrf = await csrf_of(console, "/console/jira")
        for _ in range(2):  # a second press updates the same webhook
            page = (
                await console.post("/console/jira/1/register-webhook", data={"csrf_token": csrf})
            ).text
            assert '<p class="notice" role="status" id="test-result">' in page
        assert len(jira_sim.webhooks.targets) == 1

    async def test_register_webhook_without_a_secret_says_what_to_do(
        self, console: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await save(console)
        csrf = await csrf_of(console, "/console/jira")
        answer = await console.post("/console/jira/1/register-webhook", data={"csrf_token": csrf})
        assert "Set the instance&#39;s WebhookSecret first" in answer.text
        assert jira_sim.webhooks.targets == {}

    async def test_reconcile_now_queues_a_reconcile(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        csrf = await csrf_of(console, "/console/jira")
        response = await console.post("/console/jira/1/reconcile", data={"csrf_token": csrf})
        assert response.headers["location"].endswith("notice=reconcile")
        jobs = await ok(await sim_client.get(f"{API}/SyncJobs", params={"Kind": "jira.reconcile"}))
        assert len(jobs["SyncJobs"]) == 1

    async def test_an_action_without_the_csrf_token_is_refused(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        assert (await console.post("/console/jira/1", data=settings_form(""))).status_code == 403
        instance = (await ok(await sim_client.get(f"{API}/JiraInstances/1")))["JiraInstance"]
        assert instance["HostName"] == ""


class TestMappings:
    async def test_add_and_remove_a_mapping(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        await seed_helpdesk(sim_client)
        csrf = await csrf_of(console, "/console/jira")
        form = {
            "csrf_token": csrf,
            "mapping_type": "TicketType",
            "jira_field": "Story",
            "helpdesk_field": "Task",
        }
        added = await console.post("/console/jira/1/mappings", data=form)
        assert added.headers["location"].endswith("notice=mapping-added")
        (mapping,) = (await ok(await sim_client.get(f"{API}/JiraInstances/1/Mappings")))["Mappings"]
        assert (mapping["MappingType"], mapping["JiraField"], mapping["TeamSupportField"]) == (
            "TicketType",
            "Story",
            "Task",
        )
        page = (await console.get("/console/jira")).text
        assert "<td>Ticket Type</td>" in page
        removed = await console.post(
            f"/console/jira/1/mappings/{mapping['ID']}/remove", data={"csrf_token": csrf}
        )
        assert removed.headers["location"].endswith("notice=mapping-removed")
        assert (await ok(await sim_client.get(f"{API}/JiraInstances/1/Mappings")))["Mappings"] == []

    async def test_a_refused_mapping_says_why_next_to_the_field(
        self, console: httpx.AsyncClient
    ) -> None:
        csrf = await csrf_of(console, "/console/jira")
        form = {
            "csrf_token": csrf,
            "mapping_type": "TicketType",
            "jira_field": "Story",
            "helpdesk_field": "<b>Nope</b>",
        }
        response = await console.post("/console/jira/1/mappings", data=form)
        assert response.status_code == 400
        message = error_next_to(response.text, "helpdesk_field")
        assert message == "TeamSupportField &#39;&lt;b&gt;Nope&lt;/b&gt;&#39; is not a ticket type."
