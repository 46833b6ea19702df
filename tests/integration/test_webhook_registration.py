"""RegisterWebhook and the webhook part of Test: one Jira webhook per instance, found by the
address it calls, and whether Jira will call the service, said in plain words."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.integration.webhook_registration import (
    EVENTS,
    WebhookState,
    calls,
    ours,
    state_of,
    wanted_webhook,
)
from app.jira.webhook_admin import JiraWebhook
from jirasim import JiraSimulator
from tests.conftest import BOTH_JIRAS
from tests.support.helpdesk import API, actions_of, ok
from tests.support.jobs import drain
from tests.support.world import linked_ticket, ready_helpdesk

URL = "http://helpdesk.test/webhooks/jira/1"
SECRET = "hook-secret-0123456789"


def hook(n: int, url: str, enabled: bool = True) -> JiraWebhook:
    return JiraWebhook.model_validate(
        {"self": f"http://jira.test/rest/webhooks/1.0/webhook/{n}", "url": url, "enabled": enabled}
    )


class TestDecisions:
    def test_cloud_signs_with_the_secret_server_gets_it_in_the_url(self) -> None:
        cloud = wanted_webhook("Default", URL, SECRET, cloud=True)
        server = wanted_webhook("Default", URL, SECRET, cloud=False)
        assert (cloud.url, cloud.secret) == (URL, SECRET)
        assert (server.url, server.secret) == (f"{URL}?secret={SECRET}", None)
        assert cloud.name == server.name == "Helpdesk sync (Default)"

    @pytest.mark.parametrize(
        ("registered", "same"),
        [
            (URL, True),
            (f"{URL}?secret=x", True),
            (f"{URL}/", True),
            ("HTTP://Helpdesk.Test/webhooks/jira/1", True),
            (" http://helpdesk.test/webhooks/jira/1 ", True),
            ("http://helpdesk.test/webhooks/jira/12", False),
            ("https://helpdesk.test/webhooks/jira/1", False),
            ("http://other.test/webhooks/jira/1", False),
        ],
    )
    def test_which_webhook_calls_the_instance(self, registered: str, same: bool) -> None:
        assert calls(registered, URL) is same

    def test_an_enabled_copy_is_preferred_and_states_are_told(self) -> None:
        hooks = [hook(1, "http://x.test/"), hook(2, URL, False), hook(3, f"{URL}?secret=s")]
        assert ours(hooks, URL) == hooks[2]
        assert state_of(hooks, URL) is WebhookState.ENABLED
        assert state_of(hooks[:2], URL) is WebhookState.DISABLED
        assert state_of(hooks[:1], URL) is WebhookState.MISSING


async def register(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await ok(await client.post(f"{API}/JiraInstances/1/RegisterWebhook"))
    return dict(answer["RegisterWebhook"])


async def test_result(client: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await ok(await client.post(f"{API}/JiraInstances/1/Test")))["Test"])


@BOTH_JIRAS
class TestRegisterWebhook:
    async def test_twice_gives_one_webhook_and_jira_then_calls_the_service(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: JiraSimulator
    ) -> None:
        await ready_helpdesk(sim_client, WebhookSecret=SECRET)
        linked = await linked_ticket(sim_app, sim_client, jira_sim)
        assert (await test_result(sim_client))["Webhook"] == "Missing"
        first, second = await register(sim_client), await register(sim_client)
        assert (first["Success"], first["Status"]) == (True, "Created")
        assert (second["Success"], second["Status"]) == (True, "Updated")
        assert first["WebhookID"] == second["WebhookID"]
        assert (first["URL"], first["Events"]) == (URL, list(EVENTS))
        assert SECRET not in str(first)  # never echoed, even where it travels in the URL
        (target,) = jira_sim.webhooks.targets.values()
        assert sorted(target.events) == sorted(EVENTS)
        test = await test_result(sim_client)
        assert test["Webhook"] == "Enabled"
        assert test["WebhookMessage"].startswith(f"Jira calls {URL}")

        jira_sim.set_webhook_client(sim_client)
        jira_sim.add_comment(linked.issue_key, "Fixed in 2.1", user="jdoe")
        await jira_sim.webhooks_idle()
        await drain(sim_app)
        assert jira_sim.deliveries
        # signed on Cloud, ?secret= on Server: accepted either way
        assert all(d.delivered for d in jira_sim.deliveries)
        (action,) = await actions_of(sim_client, linked.ticket["ID"])
        assert (action["Description"], action["Source"]) == ("Fixed in 2.1", "Jira")

    async def test_a_disabled_webhook_is_told_and_enabled_again(
        self, sim_client: httpx.AsyncClient, jira_sim: JiraSimulator
    ) -> None:
        await ready_helpdesk(sim_client, WebhookSecret=SECRET)
        await register(sim_client)
        (target,) = jira_sim.webhooks.targets.values()
        target.enabled = False
        test = await test_result(sim_client)
        assert test["Webhook"] == "Disabled"
        assert "exists but is disabled" in test["WebhookMessage"]
        assert (await register(sim_client))["Status"] == "Updated"
        assert target.enabled
        assert len(jira_sim.webhooks.targets) == 1

    async def test_without_admin_rights_the_manual_steps_are_given(
        self, sim_client: httpx.AsyncClient, jira_sim: JiraSimulator
    ) -> None:
        jira_sim.revoke_permissions("integration", "ADMINISTER")
        await ready_helpdesk(sim_client, WebhookSecret=SECRET)
        answer = await register(sim_client)
        assert answer["Success"] is False
        assert "needs Jira administrator rights" in answer["Message"]
        assert "docs/jira-webhooks.md" in answer["Message"]
        assert SECRET not in answer["Message"]
        assert jira_sim.webhooks.targets == {}
        test = await test_result(sim_client)
        assert test["Success"] is True  # the connection is fine
        assert test["Webhook"] == "Unknown"
        assert "needs Jira administrator rights" in test["WebhookMessage"]


class TestRefused:
    async def test_without_a_webhook_secret_nothing_is_registered(
        self, sim_client: httpx.AsyncClient, jira_sim: JiraSimulator
    ) -> None:
        await ready_helpdesk(sim_client)
        answer = await sim_client.post(f"{API}/JiraInstances/1/RegisterWebhook")
        assert answer.status_code == 409  # the instance lacks it, not the request
        assert "WebhookSecret" in answer.json()["Error"]["Message"]
        assert jira_sim.webhooks.targets == {}

    async def test_an_unknown_instance_is_404(self, sim_client: httpx.AsyncClient) -> None:
        answer = await sim_client.post(f"{API}/JiraInstances/99/RegisterWebhook")
        assert answer.status_code == 404

    async def test_xml_answers_too(
        self, sim_client: httpx.AsyncClient, jira_sim: JiraSimulator
    ) -> None:
        await ready_helpdesk(sim_client, WebhookSecret=SECRET)
        answer = await sim_client.post("/api/xml/JiraInstances/1/RegisterWebhook")
        assert answer.status_code == 200
        assert b"<Status>Created</Status>" in answer.content
