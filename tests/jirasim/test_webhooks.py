from __future__ import annotations

import hashlib
import hmac

import httpx

from jirasim import JiraSimulator

from .conftest import Receiver

HOOK = "http://service.test/hook"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class TestCloudStyle:
    async def test_issue_created_by_rest_is_echoed_and_signed(
        self, sim: JiraSimulator, client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        sim.register_webhook(HOOK, secret="s3cret")
        body = {
            "fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "x"}
        }
        assert (await client.post("/rest/api/2/issue", json=body)).status_code == 201
        await sim.webhooks_idle()
        (hit,) = receiver.received
        assert hit.headers["x-hub-signature"] == signature("s3cret", hit.body)
        assert hit.headers["x-atlassian-webhook-identifier"]
        assert "x-atlassian-webhook-retry" not in hit.headers
        payload = hit.json
        assert payload["webhookEvent"] == "jira:issue_created"
        assert payload["issue_event_type_name"] == "issue_created"
        assert payload["user"]["accountId"]
        assert "emailAddress" not in payload["user"]
        assert payload["issue"]["key"] == "DEMO-1"
        assert payload["issue"]["fields"]["updated"]
        assert isinstance(payload["timestamp"], int)
        assert payload["changelog"]["id"]

    async def test_status_change_changelog(self, sim: JiraSimulator, receiver: Receiver) -> None:
        sim.create_issue("DEMO", "x")
        sim.register_webhook(HOOK)
        sim.transition_issue("DEMO-1", "In Progress", user="jdoe")
        await sim.webhooks_idle()
        payload = receiver.received[0].json
        assert payload["webhookEvent"] == "jira:issue_updated"
        assert payload["issue_event_type_name"] == "issue_work_started"
        assert payload["user"]["displayName"] == "John Doe"
        assert payload["changelog"]["items"] == [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": "10000",
                "fromString": "To Do",
                "to": "10001",
                "toString": "In Progress",
            }
        ]
        assert payload["issue"]["fields"]["status"]["name"] == "In Progress"

    async def test_comment_events_carry_a_slim_issue(
        self, sim: JiraSimulator, receiver: Receiver
    ) -> None:
        sim.create_issue("DEMO", "x")
        sim.register_webhook(HOOK)
        comment = sim.add_comment(
            "DEMO-1", "psst", visibility={"type": "role", "value": "Developers"}
        )
        sim.edit_comment("DEMO-1", comment.id, "psst!")
        sim.delete_comment("DEMO-1", comment.id)
        await sim.webhooks_idle()
        assert receiver.events() == ["comment_created", "comment_updated", "comment_deleted"]
        created = receiver.received[0].json
        assert created["comment"]["visibility"] == {"type": "role", "value": "Developers"}
        assert created["issue"]["key"] == "DEMO-1"
        assert set(created["issue"]["fields"]) >= {"summary", "status", "project", "issuetype"}

    async def test_move_and_delete(self, sim: JiraSimulator, receiver: Receiver) -> None:
        sim.create_issue("DEMO", "x")
        sim.register_webhook(HOOK, events=["jira:issue_updated", "jira:issue_deleted"])
        sim.move_issue("DEMO-1", "SUP")
        sim.delete_issue("SUP-1")
        await sim.webhooks_idle()
        moved, deleted = (r.json for r in receiver.received)
        assert [i["field"] for i in moved["changelog"]["items"]] == ["project", "Key"]
        assert moved["issue"]["key"] == "SUP-1"
        assert deleted["webhookEvent"] == "jira:issue_deleted"
        assert deleted["issue"]["key"] == "SUP-1"


class TestServerStyle:
    async def test_comment_created_has_no_issue_and_is_also_an_issue_update(
        self, sim: JiraSimulator, receiver: Receiver
    ) -> None:
        issue = sim.create_issue("DEMO", "x")
        sim.register_webhook(HOOK, secret="s3cret", style="server")
        sim.add_comment("DEMO-1", "hello", user="jdoe")
        await sim.webhooks_idle()
        assert receiver.events() == ["comment_created", "jira:issue_updated"]
        created, updated = (r.json for r in receiver.received)
        assert "issue" not in created
        assert f"/rest/api/2/issue/{issue.id}/comment/" in created["comment"]["self"]
        assert created["comment"]["author"]["name"] == "jdoe"
        assert updated["issue_event_type_name"] == "issue_commented"
        assert updated["comment"]["body"] == "hello"
        assert updated["issue"]["fields"]["comment"]["total"] == 1
        for hit in receiver.received:
            assert hit.url.endswith("/hook?secret=s3cret")
            assert "x-hub-signature" not in hit.headers

    async def test_changelog_items_have_no_field_id(
        self, sim: JiraSimulator, receiver: Receiver
    ) -> None:
        sim.create_issue("DEMO", "x")
        sim.register_webhook(HOOK, style="server")
        sim.edit_issue("DEMO-1", {"Severity": "Low"})
        await sim.webhooks_idle()
        (item,) = receiver.received[0].json["changelog"]["items"]
        assert item == {
            "field": "Severity",
            "fieldtype": "custom",
            "from": None,
            "fromString": None,
            "to": "10103",
            "toString": "Low",
        }


class TestDelivery:
    async def test_non_2xx_is_retried_with_the_same_identifier(
        self, sim: JiraSimulator, receiver: Receiver
    ) -> None:
        receiver.statuses = [500, 503]
        sim.register_webhook(HOOK)
        sim.create_issue("DEMO", "x")
        await sim.webhooks_idle()
        assert len(receiver.received) == 3
        ids = {r.headers["x-atlassian-webhook-identifier"] for r in receiver.received}
        assert len(ids) == 1
        retries = [r.headers.get("x-atlassian-webhook-retry") for r in receiver.received]
        assert retries == [None, "1", "2"]
        (delivery,) = sim.deliveries
        assert [a.status for a in delivery.attempts] == [500, 503, 200]
        assert delivery.delivered

    async def test_gives_up_after_max_retries(self, sim: JiraSimulator, receiver: Receiver) -> None:
        receiver.statuses = [500] * 10
        sim.register_webhook(HOOK)
        sim.create_issue("DEMO", "x")
        await sim.webhooks_idle()
        (delivery,) = sim.deliveries
        assert len(delivery.attempts) == 4
        assert delivery.done
        assert not delivery.delivered

    async def test_connection_failure_is_recorded_and_retried(self, sim: JiraSimulator) -> None:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as c:
            sim.set_webhook_client(c)
            sim.register_webhook(HOOK)
            sim.create_issue("DEMO", "x")
            await sim.webhooks_idle()
        (delivery,) = sim.deliveries
        assert all(a.error and "ConnectError" in a.error for a in delivery.attempts)
        assert len(delivery.attempts) == 4

    async def test_drop_next_loses_a_delivery(self, sim: JiraSimulator, receiver: Receiver) -> None:
        sim.register_webhook(HOOK)
        sim.drop_next_webhooks(1)
        sim.create_issue("DEMO", "lost")
        sim.create_issue("DEMO", "kept")
        await sim.webhooks_idle()
        assert [r.json["issue"]["key"] for r in receiver.received] == ["DEMO-2"]
        assert sim.deliveries[0].attempts[0].dropped

    async def test_redeliver_is_a_duplicate(self, sim: JiraSimulator, receiver: Receiver) -> None:
        sim.register_webhook(HOOK, secret="k")
        sim.create_issue("DEMO", "x")
        await sim.webhooks_idle()
        sim.redeliver_webhook(sim.deliveries[0].id)
        sim.redeliver_webhook(sim.deliveries[0].id, as_retry=True)
        await sim.webhooks_idle()
        first, dup, retry = receiver.received
        assert first.body == dup.body == retry.body
        ident = first.headers["x-atlassian-webhook-identifier"]
        assert dup.headers["x-atlassian-webhook-identifier"] == ident
        assert retry.headers["x-atlassian-webhook-retry"] == "1"
        assert dup.headers["x-hub-signature"] == signature("k", dup.body)

    async def test_pause_and_resume(self, sim: JiraSimulator, receiver: Receiver) -> None:
        sim.register_webhook(HOOK)
        sim.pause_webhooks()
        sim.create_issue("DEMO", "x")
        await sim.webhooks_idle()
        assert receiver.received == []
        sim.resume_webhooks()
        await sim.webhooks_idle()
        assert receiver.events() == ["jira:issue_created"]

    async def test_delivery_does_not_block_the_rest_answer(
        self, sim: JiraSimulator, client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        sim.register_webhook(HOOK)
        r = await client.post("/rest/api/2/issue/DEMO-1/comment", json={"body": "x"})
        assert r.status_code == 404
        sim.create_issue("DEMO", "x")
        assert receiver.received == []
        await sim.webhooks_idle()
        assert len(receiver.received) == 1

    async def test_control_endpoints(
        self, sim: JiraSimulator, client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        r = await client.post("/_sim/webhooks", json={"url": HOOK, "style": "server"})
        assert r.json()["secretIn"] == "query"
        await client.post("/_sim/webhooks/drop", json={"count": 1})
        await client.post("/_sim/issues", json={"project": "DEMO", "summary": "x"})
        await client.post("/_sim/webhooks/idle")
        deliveries = (await client.get("/_sim/webhooks/deliveries")).json()
        assert deliveries[0]["attempts"][0]["dropped"] is True
        await client.post(f"/_sim/webhooks/deliveries/{deliveries[0]['id']}/redeliver")
        await client.post("/_sim/webhooks/idle")
        assert receiver.events() == ["jira:issue_created"]
