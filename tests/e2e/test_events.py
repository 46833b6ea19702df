"""Outgoing events end to end: the service under uvicorn, the Jira simulator, and a helpdesk's
receiver as a real process (`tests/support/receiver.py`) that verifies every signature with the
`standardwebhooks` package. Each test is one point of issue 11."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from app.core.security import hmac_sha256_hex
from app.outgoing.sender import new_secret
from tests.conftest import API_TOKEN
from tests.e2e.conftest import Jira, ServiceFactory, http_client
from tests.support.helpdesk import API, create_ticket, get_ticket, ok
from tests.support.live import LiveService, free_port
from tests.support.polling import eventually
from tests.support.receiver import Attempt, Receiver, ReceiverProcess
from tests.support.world import ready_helpdesk

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "e2e-events-webhook-secret"


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[ReceiverProcess]:
    process = ReceiverProcess(free_port(), Receiver(new_secret(), log=tmp_path / "events.jsonl"))
    await process.start()
    try:
        yield process
    finally:
        process.stop()


async def subscribe(api: httpx.AsyncClient, receiver: ReceiverProcess) -> dict[str, Any]:
    body = {"Name": "Helpdesk", "URL": receiver.url, "Secret": receiver.receiver.secret}
    answer = await ok(await api.post(f"{API}/EventSubscriptions", json=body), 201)
    return dict(answer["EventSubscription"])


async def arrived(
    receiver: ReceiverProcess,
    done: Callable[[list[Attempt]], bool],
    timeout: float = 20.0,
    what: str = "events",
) -> list[Attempt]:
    """The receiver's accepted events once `done` says so (it is another process: polled)."""

    async def accepted() -> list[Attempt]:
        return receiver.receiver.delivered()

    return await eventually(accepted, done, timeout=timeout, interval=0.05, what=what)


def of_type(attempts: list[Attempt], event_type: str) -> list[Attempt]:
    return [a for a in attempts if a.event["type"] == event_type]


async def linked_ticket(api: httpx.AsyncClient, jira: Jira, service: LiveService) -> Any:
    """A ticket linked to a new DEMO issue (its status following Jira's), and Jira's webhooks
    going to the service."""
    helpdesk = await ready_helpdesk(
        api, jira.base_url, WebhookSecret=WEBHOOK_SECRET, UpdateTicketStatus=True
    )
    status = {"Name": "In Progress", "TicketTypeID": helpdesk.types["Task"]}
    await ok(await api.post(f"{API}/TicketStatuses", json=status), 201)
    issue = jira.sim.create_issue("DEMO", "Printer on fire")
    ticket = await create_ticket(api, JiraKey=issue.key)
    await eventually(
        lambda: get_ticket(api, ticket["ID"]),
        lambda t: t["JiraSyncStatus"] == "Linked",
        what="ticket linked",
    )
    jira.sim.register_webhook(f"{service.base_url}/webhooks/jira/1", secret=WEBHOOK_SECRET)
    return ticket, issue


class TestFromJira:
    async def test_a_status_change_is_one_signed_ticket_updated(
        self,
        api: httpx.AsyncClient,
        jira: Jira,
        service: LiveService,
        receiver: ReceiverProcess,
    ) -> None:
        ticket, issue = await linked_ticket(api, jira, service)
        await subscribe(api, receiver)
        jira.sim.transition_issue(issue.key, "In Progress")
        attempts = await arrived(
            receiver, lambda got: len(of_type(got, "ticket.updated")) >= 1, what="ticket.updated"
        )
        await jira.sim.webhooks_idle()
        (event,) = of_type(receiver.receiver.delivered(), "ticket.updated")
        headers = {
            "webhook-id": event.webhook_id,
            "webhook-timestamp": event.timestamp,
            "webhook-signature": event.signature,
        }
        body = Webhook(receiver.receiver.secret).verify(event.body, headers)
        assert body["data"]["TicketID"] == ticket["ID"]
        assert body["data"]["origin"] == "jira"
        assert {"Field": "Status", "From": "New", "To": "In Progress"} in body["data"]["changes"]
        assert len(attempts) == len({a.webhook_id for a in attempts})

    async def test_a_comment_is_one_action_created(
        self,
        api: httpx.AsyncClient,
        jira: Jira,
        service: LiveService,
        receiver: ReceiverProcess,
    ) -> None:
        ticket, issue = await linked_ticket(api, jira, service)
        await subscribe(api, receiver)
        jira.sim.add_comment(issue.key, "Fixed in 2.1", user="jdoe")
        await arrived(receiver, lambda got: len(of_type(got, "action.created")) >= 1)
        await jira.sim.webhooks_idle()
        (event,) = of_type(receiver.receiver.delivered(), "action.created")
        assert event.event["data"]["Action"]["Description"] == "Fixed in 2.1"
        assert event.event["data"]["TicketID"] == ticket["ID"]


class TestDelivery:
    async def test_a_receiver_down_for_200_changes_gets_each_once_in_order(
        self, api: httpx.AsyncClient, receiver: ReceiverProcess
    ) -> None:
        await ready_helpdesk(api)
        tickets = [await create_ticket(api, Name=f"T{n}") for n in range(10)]
        await subscribe(api, receiver)
        receiver.stop()
        for n in range(20):
            for ticket in tickets:
                await ok(await api.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": f"n{n}"}))
        await receiver.start()
        got = await arrived(
            receiver, lambda got: len({a.webhook_id for a in got}) >= 200, timeout=60
        )
        assert len({a.webhook_id for a in got}) == 200
        assert len(got) == 200  # each accepted once
        names: dict[int, list[str]] = defaultdict(list)
        for attempt in got:
            names[attempt.event["data"]["TicketID"]].append(
                attempt.event["data"]["changes"][0]["To"]
            )
        assert all(seen == [f"n{n}" for n in range(20)] for seen in names.values())
        assert len(names) == 10

    async def test_three_500s_then_the_fourth_try_with_the_same_id(
        self, api: httpx.AsyncClient, receiver: ReceiverProcess
    ) -> None:
        await ready_helpdesk(api)
        ticket = await create_ticket(api)
        await subscribe(api, receiver)
        await receiver.script(500, 500, 500)
        await ok(await api.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "x"}))
        await arrived(receiver, lambda got: len(got) == 1)
        attempts = receiver.receiver.received()
        assert [a.answered for a in attempts] == [500, 500, 500, 200]
        assert len({a.webhook_id for a in attempts}) == 1
        assert all(a.verified for a in attempts)

    async def test_410_deactivates_the_subscription(
        self, api: httpx.AsyncClient, receiver: ReceiverProcess
    ) -> None:
        await ready_helpdesk(api)
        ticket = await create_ticket(api)
        subscription = await subscribe(api, receiver)
        await receiver.script(410)
        await ok(await api.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "x"}))

        async def current() -> Any:
            return await ok(await api.get(f"{API}/EventSubscriptions/{subscription['ID']}"))

        answer = await eventually(
            current,
            lambda a: a["EventSubscription"]["Active"] is False,
            what="subscription off",
        )
        assert answer["EventSubscription"]["InactiveReason"] == "The receiver answered 410 Gone."
        failed = await ok(await api.get(f"{API}/EventDeliveries?Status=Failed"))
        assert [d["LastStatusCode"] for d in failed["EventDeliveries"]] == [410]

    async def test_a_metadata_address_is_refused(self, api: httpx.AsyncClient) -> None:
        for url in ("http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/"):
            response = await api.post(
                f"{API}/EventSubscriptions", json={"Name": "Evil", "URL": url}
            )
            assert response.status_code == 400
            assert "metadata" in response.json()["Error"]["Message"]

    async def test_a_change_from_the_helpdesk_is_not_echoed(
        self, api: httpx.AsyncClient, receiver: ReceiverProcess
    ) -> None:
        await ready_helpdesk(api)
        await subscribe(api, receiver)
        event = {
            "id": "evt-1",
            "type": "ticket.upserted",
            "ticket": {"ExternalID": "hd-1", "Name": "From outside", "TicketTypeName": "Task"},
        }
        for sent in (event, {**event, "id": "evt-2", "ticket": {**event["ticket"], "Name": "B"}}):
            body = json.dumps(sent).encode()
            response = await api.post(
                "/webhooks/helpdesk",
                content=body,
                headers={"X-Signature": f"sha256={hmac_sha256_hex(API_TOKEN, body)}"},
            )
            assert response.status_code == 200
        (ticket,) = (await ok(await api.get(f"{API}/Tickets")))["Tickets"]
        await ok(await api.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "From the API"}))
        got = await arrived(receiver, lambda got: len(got) >= 1)
        # the API change is the first and only event: the helpdesk's own were not sent back
        assert [a.event["data"]["changes"][0]["To"] for a in got] == ["From the API"]
        assert got[0].event["data"]["ExternalID"] == "hd-1"
        deliveries = await ok(await api.get(f"{API}/EventDeliveries"))
        assert len(deliveries["EventDeliveries"]) == 1


class TestCrash:
    async def test_the_service_killed_mid_stream_loses_nothing(
        self, start_service: ServiceFactory, receiver: ReceiverProcess
    ) -> None:
        port = free_port()
        same = {"PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}"}
        quick_takeover = {"JOB_LEASE_SECONDS": "1"}
        accepted: dict[int, list[str]] = defaultdict(list)
        async with start_service(**same, **quick_takeover) as first:
            async with http_client(first) as api:
                await ready_helpdesk(api)
                tickets = [await create_ticket(api, Name=f"T{n}") for n in range(5)]
                await subscribe(api, receiver)
                await receiver.script(delay=0.2)  # a slow receiver: events still on their way
                for n in range(10):
                    for ticket in tickets:
                        await ok(
                            await api.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": f"a{n}"})
                        )
                        accepted[ticket["ID"]].append(f"a{n}")
                first.process.send_signal(signal.SIGKILL)
                await asyncio.to_thread(first.process.wait, 10)
                assert len(receiver.receiver.delivered()) < 50, "killed after the stream"
                await receiver.script()
        async with start_service(**same, **quick_takeover) as second:
            async with http_client(second) as api:
                for ticket_id in accepted:
                    await ok(await api.put(f"{API}/Tickets/{ticket_id}", json={"Name": "after"}))
                    accepted[ticket_id].append("after")
                got = await arrived(
                    receiver,
                    lambda got: len({a.webhook_id for a in got}) >= 55,
                    timeout=60,
                    what="every event",
                )
        once: dict[str, Attempt] = {}
        for attempt in got:
            once.setdefault(attempt.webhook_id, attempt)  # the receiver drops repeats by id
        names: dict[int, list[str]] = defaultdict(list)
        for attempt in once.values():
            data = attempt.event["data"]
            names[data["TicketID"]].append(data["changes"][0]["To"])
        assert dict(names) == dict(accepted)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "helpdesk-events.md"


async def call(api: httpx.AsyncClient, method: str, url: str) -> Any:
    return await ok(await api.request(method, url))


def docs_receiver() -> str:
    """The ```python block of the docs' "A receiver" section, as written."""
    section = DOCS.read_text().split("\n## A receiver\n", 1)[1]
    (block,) = re.findall(r"^```python\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    return str(block)


class TestDocsReceiver:
    async def test_the_docs_receiver_takes_an_event_and_drops_its_replay(
        self, api: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        (tmp_path / "receiver.py").write_text(docs_receiver())
        port, secret = free_port(), new_secret()
        output = tmp_path / "receiver.out"
        env = {**os.environ, "PORT": str(port), "WEBHOOK_SECRET": secret}
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "receiver.py"],
                cwd=tmp_path,
                env=env,
                stdout=sink,
                stderr=subprocess.DEVNULL,
            )
        try:
            await ready_helpdesk(api)
            ticket = await create_ticket(api)
            body = {"Name": "Docs", "URL": f"http://127.0.0.1:{port}/", "Secret": secret}
            created = await ok(await api.post(f"{API}/EventSubscriptions", json=body), 201)
            test_url = f"{API}/EventSubscriptions/{created['EventSubscription']['ID']}/Test"
            # the receiver is another process: its Test is asked until it listens
            test = await eventually(
                lambda: call(api, "POST", test_url),
                lambda answer: answer["Test"]["Success"],
                what="the docs receiver listening",
            )
            assert test["Test"]["StatusCode"] == 204
            await ok(await api.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "x"}))
            (delivery,) = (
                await eventually(
                    lambda: call(api, "GET", f"{API}/EventDeliveries?Status=Delivered"),
                    lambda answer: len(answer["EventDeliveries"]) == 1,
                    what="delivered",
                )
            )["EventDeliveries"]
            await ok(await api.post(f"{API}/EventDeliveries/{delivery['ID']}/Retry"))
            lines = await eventually(
                lambda: asyncio.sleep(0, output.read_text().splitlines()),
                lambda got: any(line.startswith("duplicate") for line in got),
                what="the replay seen as a duplicate",
            )
        finally:
            process.terminate()
            process.wait(10)
        event_id = delivery["EventID"]
        assert lines[-2:] == [f"ticket.updated {ticket['ID']} {event_id}", f"duplicate {event_id}"]
