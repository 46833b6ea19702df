"""The simulator's webhook REST API (`/rest/webhooks/1.0/webhook`): administrators only; what is
registered there is delivered, signed on Cloud."""

from __future__ import annotations

import httpx
import pytest

from jirasim import JiraSimulator

from .conftest import Receiver

HOOKS = "/rest/webhooks/1.0/webhook"
BODY = {
    "name": "Helpdesk",
    "url": "http://service.test/hook",
    "events": ["jira:issue_updated", "comment_created"],
    "secret": "s3cret-s3cret",
}


class TestWebhookAdmin:
    async def test_create_list_update_delete(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        created = await client.post(HOOKS, json=BODY)
        assert created.status_code == 201, created.text
        hook = created.json()
        one = f"{HOOKS}/{hook['self'].rsplit('/', 1)[-1]}"
        assert hook["self"] == f"http://jira.test{one}"
        assert (hook["name"], hook["enabled"]) == ("Helpdesk", True)
        assert "secret" not in hook
        assert [h["url"] for h in (await client.get(HOOKS)).json()] == [BODY["url"]]
        updated = await client.put(one, json=BODY | {"enabled": False, "name": "Off"})
        assert (updated.json()["name"], updated.json()["enabled"]) == ("Off", False)
        assert (await client.delete(one)).status_code == 204
        assert (await client.get(HOOKS)).json() == []
        assert (await client.get(one)).status_code == 404

    async def test_only_an_administrator_may(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.revoke_permissions("integration", "ADMINISTER")
        assert (await client.get(HOOKS)).status_code == 403
        assert (await client.post(HOOKS, json=BODY)).status_code == 403

    @pytest.mark.parametrize(
        "change",
        [{"name": ""}, {"url": "ftp://x"}, {"events": ["jira:everything"]}, {"events": "x"}],
    )
    async def test_a_bad_webhook_is_400(
        self, client: httpx.AsyncClient, change: dict[str, object]
    ) -> None:
        assert (await client.post(HOOKS, json=BODY | change)).status_code == 400

    async def test_delivered_signed_and_not_when_disabled(
        self, sim: JiraSimulator, client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        one = (await client.post(HOOKS, json=BODY)).json()["self"]
        issue = sim.create_issue("DEMO", "x")
        sim.add_comment(issue.key, "hello", user="jdoe")
        await sim.webhooks_idle()
        assert receiver.events() == ["comment_created"]  # only the events asked for
        assert receiver.received[0].headers["x-hub-signature"].startswith("sha256=")
        assert (await client.put(one, json=BODY | {"enabled": False})).status_code == 200
        sim.add_comment(issue.key, "again", user="jdoe")
        await sim.webhooks_idle()
        assert receiver.events() == ["comment_created"], receiver.events()

    @pytest.mark.parametrize("jira_flavor", ["server"])
    async def test_server_cannot_sign(
        self, sim: JiraSimulator, client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        url = "http://service.test/hook?secret=s3cret-s3cret"
        await client.post(HOOKS, json=BODY | {"url": url})
        issue = sim.create_issue("DEMO", "x")
        sim.add_comment(issue.key, "hello", user="jdoe")
        await sim.webhooks_idle()
        (hit, *_) = receiver.received
        assert "x-hub-signature" not in hit.headers
        assert hit.url.endswith("?secret=s3cret-s3cret")
