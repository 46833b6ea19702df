"""EventSubscriptions (with Test) and EventDeliveries (log and replay) through the API, in both
formats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from defusedxml.ElementTree import fromstring
from sqlalchemy import select
from standardwebhooks import Webhook

from app.core.settings import Settings
from app.outgoing.models import EventDelivery, EventSubscription
from tests.conftest import api_client, started
from tests.support.helpdesk import API, create_ticket, ok
from tests.support.jobs import drain
from tests.support.outgoing_fixtures import RECEIVER_URL, subscribe
from tests.support.receiver import Receiver
from tests.support.world import seed_helpdesk

XML = "/api/xml"


class TestSubscriptions:
    async def test_a_generated_secret_is_answered_once_and_stored_encrypted(
        self, events_client: httpx.AsyncClient, events_app: Any
    ) -> None:
        created = await ok(
            await events_client.post(
                f"{API}/EventSubscriptions", json={"Name": "Helpdesk", "URL": RECEIVER_URL}
            ),
            201,
        )
        subscription = created["EventSubscription"]
        secret = subscription["Secret"]
        assert secret.startswith("whsec_")
        Webhook(secret)  # the form the standardwebhooks package takes
        assert subscription["EventTypes"] == []
        assert subscription["Active"] is True
        again = await ok(await events_client.get(f"{API}/EventSubscriptions/{subscription['ID']}"))
        assert "Secret" not in again["EventSubscription"]
        listed = await ok(await events_client.get(f"{API}/EventSubscriptions"))
        assert "Secret" not in listed["EventSubscriptions"][0]
        async with events_app.state.session_factory() as session:
            row = await session.scalar(select(EventSubscription))
        assert secret not in row.secret_encrypted
        assert events_app.state.services.secrets.decrypt(row.secret_encrypted) == secret

    async def test_xml_create_change_and_delete(
        self, events_client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        body = (
            "<EventSubscription><Name>Desk</Name><URL>http://receiver.test/hook?x=1</URL>"
            "<EventTypes><Value>ticket.updated</Value><Value>action.created</Value></EventTypes>"
            "</EventSubscription>"
        )
        response = await events_client.post(
            f"{XML}/EventSubscriptions", content=body, headers={"content-type": "application/xml"}
        )
        assert response.status_code == 201, response.text
        assert "<Secret>whsec_" in response.text
        assert "<URL>http://receiver.test/hook?x=1</URL>" in response.text
        assert "<Value>ticket.updated</Value><Value>action.created</Value>" in response.text
        listed = await ok(await events_client.get(f"{API}/EventSubscriptions"))
        (subscription,) = listed["EventSubscriptions"]
        changed = await events_client.put(
            f"{XML}/EventSubscriptions/{subscription['ID']}",
            content="<EventSubscription><Active>false</Active></EventSubscription>",
            headers={"content-type": "application/xml"},
        )
        assert "<Active>False</Active>" in changed.text
        deleted = await events_client.delete(f"{API}/EventSubscriptions/{subscription['ID']}")
        assert deleted.status_code == 204
        missing = await events_client.get(f"{API}/EventSubscriptions/{subscription['ID']}")
        assert missing.status_code == 404
        assert missing.json()["Error"]["Code"] == "NotFound"

    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("ftp://receiver.test/hook", "must be an http(s) URL"),
            ("http://user:pw@receiver.test/hook", "must not contain credentials"),
            ("http://169.254.169.254/latest", "link-local or cloud metadata"),
            ("http://metadata.google.internal/", "cloud metadata service"),
            ("http://[fe80::1]/hook", "link-local or cloud metadata"),
            ("http://receiver.test/hook#frag", "query or fragment"),
            ("receiver.test/hook", "must be an http(s) URL"),
        ],
    )
    async def test_a_url_the_service_may_not_call_is_a_400(
        self, events_client: httpx.AsyncClient, url: str, says: str
    ) -> None:
        response = await events_client.post(
            f"{API}/EventSubscriptions", json={"Name": "x", "URL": url}
        )
        assert response.status_code == 400
        assert says in response.json()["Error"]["Message"]
        assert response.json()["Error"]["Message"].startswith("URL")
        assert response.json()["Error"]["Code"] == "HostNameRefused"

    @pytest.mark.parametrize(
        ("body", "says"),
        [
            ({"URL": RECEIVER_URL}, "needs Name"),
            ({"Name": "x"}, "needs URL"),
            ({"Name": "x", "URL": RECEIVER_URL, "Secret": "plain"}, "whsec_"),
            ({"Name": "x", "URL": RECEIVER_URL, "Secret": "whsec_!!"}, "base64"),
            ({"Name": "x", "URL": RECEIVER_URL, "Secret": "whsec_AAAA"}, "24 to 64 bytes"),
            (
                {"Name": "x", "URL": RECEIVER_URL, "EventTypes": ["ticket.deleted"]},
                "ticket.updated",
            ),
            ({"Name": "x", "URL": RECEIVER_URL, "EventTypes": ["ping"]}, "ticket.updated"),
            ({"Name": "x", "URL": RECEIVER_URL, "Active": None}, "Active"),
            ({"Name": "x", "URL": RECEIVER_URL, "ID": 5}, "ID"),
        ],
    )
    async def test_bad_input_is_a_400_with_an_error_body(
        self, events_client: httpx.AsyncClient, body: dict[str, Any], says: str
    ) -> None:
        response = await events_client.post(f"{API}/EventSubscriptions", json=body)
        assert response.status_code == 400, response.text
        assert says in response.json()["Error"]["Message"]

    async def test_private_urls_are_refused_when_the_setting_says_so(
        self, make_settings: Callable[..., Settings], db: Any
    ) -> None:
        from app.main import create_app

        application = create_app(make_settings(allow_private_event_urls=False))
        async with started(application), api_client(application) as client:
            response = await client.post(
                f"{API}/EventSubscriptions", json={"Name": "x", "URL": "http://10.0.0.5/hook"}
            )
        assert response.status_code == 400
        assert "allow_private_event_urls" in response.json()["Error"]["Message"]


class TestSubscriptionTest:
    async def test_a_ping_reaches_the_receiver_signed(
        self, events_client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        subscription = await subscribe(events_client, receiver)
        answer = await ok(
            await events_client.post(f"{API}/EventSubscriptions/{subscription['ID']}/Test")
        )
        test = answer["Test"]
        assert test["Success"] is True
        assert test["Message"] == "The receiver accepted the event (HTTP 200)."
        (attempt,) = receiver.received()
        assert attempt.verified
        assert attempt.webhook_id == test["EventID"]
        assert attempt.event["type"] == "ping"
        assert attempt.event["data"]["SubscriptionID"] == subscription["ID"]

    async def test_a_refusal_is_told_in_plain_words(
        self, events_client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        subscription = await subscribe(events_client, receiver)
        receiver.script(404)
        answer = await ok(
            await events_client.post(f"{API}/EventSubscriptions/{subscription['ID']}/Test")
        )
        assert answer["Test"] == {
            "Success": False,
            "Message": "The receiver refused the event (HTTP 404).",
            "StatusCode": 404,
            "EventID": answer["Test"]["EventID"],
        }

    async def test_a_wrong_secret_is_seen_by_the_receiver(
        self, events_client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        other = Receiver("whsec_" + "A" * 43 + "=")
        subscription = await subscribe(events_client, other)
        answer = await ok(
            await events_client.post(f"{API}/EventSubscriptions/{subscription['ID']}/Test")
        )
        assert answer["Test"]["StatusCode"] == 401  # our receiver could not verify it
        assert answer["Test"]["Success"] is False


class TestDeliveries:
    async def test_listed_with_filters_and_replayed_with_the_same_id(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        subscription = await subscribe(events_client, receiver)
        first = await create_ticket(events_client)
        second = await create_ticket(events_client)
        receiver.script(400)  # the first event is refused: Failed at once
        await ok(await events_client.put(f"{API}/Tickets/{first['ID']}", json={"Name": "A"}))
        await drain(events_app)
        await ok(await events_client.put(f"{API}/Tickets/{second['ID']}", json={"Name": "B"}))
        await drain(events_app)
        failed = await ok(await events_client.get(f"{API}/EventDeliveries?Status=Failed"))
        (delivery,) = failed["EventDeliveries"]
        assert delivery["TicketID"] == first["ID"]
        assert (delivery["Attempts"], delivery["LastStatusCode"]) == (1, 400)
        assert delivery["LastError"] == "The receiver refused the event (HTTP 400)."
        assert delivery["NextAttemptAt"] is None
        by_ticket = await ok(
            await events_client.get(f"{API}/EventDeliveries?TicketID={second['ID']}")
        )
        assert [d["Status"] for d in by_ticket["EventDeliveries"]] == ["Delivered"]
        by_subscription = await events_client.get(
            f"{API}/EventDeliveries?SubscriptionID={subscription['ID']}&Since=2000-01-01T00:00:00Z"
        )
        assert by_subscription.headers["X-Total-Count"] == "2"
        retried = await ok(
            await events_client.post(f"{API}/EventDeliveries/{delivery['ID']}/Retry")
        )
        assert retried["EventDelivery"]["Status"] == "Pending"
        await drain(events_app)
        again = await ok(await events_client.get(f"{API}/EventDeliveries/{delivery['ID']}"))
        assert again["EventDelivery"]["Status"] == "Delivered"
        assert again["EventDelivery"]["Attempts"] == 2
        ids = [
            a.webhook_id for a in receiver.received() if a.event["data"]["TicketID"] == first["ID"]
        ]
        assert ids == [delivery["EventID"], delivery["EventID"]]

    async def test_a_pending_delivery_is_not_replayed(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        await subscribe(events_client, receiver)
        ticket = await create_ticket(events_client)
        await ok(await events_client.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "A"}))
        async with events_app.state.session_factory() as session:
            delivery = await session.scalar(select(EventDelivery))
        response = await events_client.post(f"{API}/EventDeliveries/{delivery.id}/Retry")
        assert response.status_code == 409
        assert "still Pending" in response.json()["Error"]["Message"]

    @pytest.mark.parametrize(
        "query", ["Status=Lost", "TicketID=0", "SubscriptionID=x", "Since=yesterday"]
    )
    async def test_bad_filters_are_a_400(
        self, events_client: httpx.AsyncClient, query: str
    ) -> None:
        response = await events_client.get(f"{API}/EventDeliveries?{query}")
        assert response.status_code == 400
        assert "Error" in response.json()


class TestXmlDeliveries:
    async def test_the_log_in_xml_has_one_event_delivery_element_each(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        await subscribe(events_client, receiver)
        ticket = await create_ticket(events_client)
        await ok(await events_client.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "A"}))
        await drain(events_app)
        answer = await events_client.get(f"{XML}/EventDeliveries")
        root = fromstring(answer.text)
        (item,) = root.findall("EventDelivery")
        assert item.findtext("Status") == "Delivered"
        assert item.findtext("EventType") == "ticket.updated"
