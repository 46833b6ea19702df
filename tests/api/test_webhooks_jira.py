"""`POST /webhooks/jira/{InstanceID}`: authentication, storage, de-duplication, fast answers."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlmodel import col

from app.inbox.models import WebhookDelivery
from app.integration.inbound.credentials import WebhookCredentials
from app.integration.job_kinds import ApplyWebhook
from app.jira.webhooks import parse_delivery
from app.jobs.models import SyncJob
from tests.conftest import API_TOKEN
from tests.support.inbound import deliver, history_of, issue_updated, item, sign, simple_event
from tests.support.jobs import drain
from tests.support.world import WEBHOOK_SECRET, linked_world

STATUS_CHANGE = issue_updated("10040", "DEMO-1", [item("status", "To Do", "In Progress")])


async def counts(session: Any) -> tuple[int, int]:
    deliveries = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    queued = await session.scalar(
        select(func.count()).select_from(SyncJob).where(col(SyncJob.kind) == "jira.apply_webhook")
    )
    await session.commit()
    return int(deliveries or 0), int(queued or 0)


class TestParameters:
    @pytest.mark.parametrize("instance", ["abc", "0", "-3", "2147483648", "1.5"])
    async def test_an_instance_id_that_cannot_be_one_is_400(
        self, http: httpx.AsyncClient, session: Any, instance: str
    ) -> None:
        response = await http.post(f"/webhooks/jira/{instance}", content=b"{}")
        assert response.status_code == 400
        assert response.json()["Error"]["Message"].startswith("path.InstanceID: ")
        assert await counts(session) == (0, 0)

    async def test_an_unknown_instance_is_404(self, http: httpx.AsyncClient, session: Any) -> None:
        response = await deliver(http, 999, STATUS_CHANGE)
        assert response.status_code == 404
        assert response.json()["Error"]["Message"] == "JiraInstance 999 does not exist."

    async def test_an_overlong_secret_is_400_and_stores_nothing(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(
            http, instance_id, STATUS_CHANGE, signature=None, query_secret="s" * 1025
        )
        assert response.status_code == 400
        assert "secret: at most 1024 characters" in response.json()["Error"]["Message"]
        assert await counts(session) == (0, 0)


class TestAuthentication:
    async def test_bad_signature_is_401_and_stores_nothing(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(http, instance_id, STATUS_CHANGE, signature="sha256=" + "0" * 64)
        assert response.status_code == 401
        assert await counts(session) == (0, 0)

    async def test_missing_signature_is_401(self, http: httpx.AsyncClient, session: Any) -> None:
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(http, instance_id, STATUS_CHANGE, signature=None)
        assert response.status_code == 401
        assert response.json()["Error"]["Code"] == "Unauthorized"
        assert await counts(session) == (0, 0)

    async def test_signature_of_another_body_is_401(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        other = json.dumps({"webhookEvent": "x"}).encode()
        response = await deliver(http, instance_id, STATUS_CHANGE, signature=sign(other))
        assert response.status_code == 401

    async def test_server_style_query_secret(self, http: httpx.AsyncClient, session: Any) -> None:
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(
            http, instance_id, STATUS_CHANGE, signature=None, query_secret=WEBHOOK_SECRET
        )
        assert response.status_code == 200
        assert response.json()["status"] == "accepted"
        assert await counts(session) == (1, 1)

    async def test_wrong_query_secret_is_401(self, http: httpx.AsyncClient, session: Any) -> None:
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(
            http, instance_id, STATUS_CHANGE, signature=None, query_secret="nope"
        )
        assert response.status_code == 401

    async def test_instance_without_secret_refuses(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session, webhook_secret=None)).instance_id
        assert (await deliver(http, instance_id, STATUS_CHANGE)).status_code == 401

    async def test_unknown_instance_is_404(self, http: httpx.AsyncClient, session: Any) -> None:
        assert (await deliver(http, 999, STATUS_CHANGE)).status_code == 404

    async def test_no_api_token_needed(self, http: httpx.AsyncClient, session: Any) -> None:
        instance_id = (await linked_world(session)).instance_id
        assert "authorization" not in http.headers
        assert (await deliver(http, instance_id, STATUS_CHANGE)).status_code == 200


class TestStorage:
    async def test_malformed_json_is_400(self, http: httpx.AsyncClient, session: Any) -> None:
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(http, instance_id, b"{not json")
        assert response.status_code == 400
        assert await counts(session) == (0, 0)

    async def test_a_changelog_id_too_long_to_be_a_number_is_only_left_out(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        body = json.dumps(STATUS_CHANGE).replace(
            '"changelog": {', '"changelog": {"id": ' + "9" * 4400 + ", ", 1
        )
        assert '"id": 999' in body
        response = await deliver(http, instance_id, body.encode())
        assert (response.status_code, response.json()["status"]) == (200, "accepted")

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(json.dumps(STATUS_CHANGE | {"issue": []}), id="issue as a list"),
            pytest.param(
                json.dumps(STATUS_CHANGE | {"issue_event_type_name": ["issue_updated"]}),
                id="event type name as a list",
            ),
            pytest.param(
                '{"webhookEvent": "jira:issue_updated", "issue": {"id": "1\\u0000"}}', id="NUL"
            ),
            pytest.param(
                '{"webhookEvent": "jira:issue_updated", "issue": {"id": ' + "9" * 4400 + "}}",
                id="a 4,400-digit id",
            ),
            pytest.param(
                json.dumps(STATUS_CHANGE | {"issue": {"id": "1" * 65, "key": "SUP-1"}}),
                id="an id longer than any Jira id",
            ),
        ],
    )
    async def test_a_body_that_is_no_jira_webhook_is_kept_and_answered_200(
        self, http: httpx.AsyncClient, session: Any, body: str
    ) -> None:
        """Stored for a person to read, never applied, and no 4xx/5xx for Jira to retry."""
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(http, instance_id, body.encode())
        assert (response.status_code, response.json()["status"]) == (200, "unreadable")
        assert await counts(session) == (1, 0)
        delivery = await session.scalar(select(WebhookDelivery))
        assert delivery.outcome == "unreadable"
        assert delivery.processed_at is not None

    async def test_inactive_instance_is_202_logged_not_applied(
        self, http: httpx.AsyncClient, session: Any, service: Any
    ) -> None:
        world = await linked_world(session, sync_active=False)
        instance_id, tickets = world.instance_id, world.tickets
        response = await deliver(http, instance_id, STATUS_CHANGE)
        assert response.status_code == 202
        assert response.json()["status"] == "inactive"
        assert await counts(session) == (1, 0)
        await drain(service)
        assert not any("Status" in line for line in await history_of(session, tickets[0]))

    async def test_ignored_event_types_get_an_explicit_2xx(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        for event in ("jira:issue_created", "comment_deleted", "jira:worklog_updated"):
            response = await deliver(http, instance_id, simple_event(event, "10040", "DEMO-1"))
            assert response.status_code == 200
            assert response.json()["status"] == "ignored"
        assert await counts(session) == (3, 0)

    async def test_unlinked_issue_is_stored_without_work(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        payload = issue_updated("77777", "DEMO-9", [item("status", "To Do", "Done")])
        response = await deliver(http, instance_id, payload)
        assert (response.status_code, response.json()["status"]) == (200, "unlinked")
        assert await counts(session) == (1, 0)

    async def test_job_is_ordered_by_the_issue(self, http: httpx.AsyncClient, session: Any) -> None:
        instance_id = (await linked_world(session)).instance_id
        await deliver(http, instance_id, STATUS_CHANGE)
        job = await session.scalar(select(SyncJob).where(col(SyncJob.kind) == "jira.apply_webhook"))
        delivery = await session.scalar(select(WebhookDelivery))
        await session.commit()
        assert job.ordering_key == f"issue:{instance_id}:10040"
        assert ApplyWebhook.model_validate(job.payload) == ApplyWebhook(
            delivery_id=delivery.id,
            instance_id=instance_id,
            issue_id="10040",
            parsed=parse_delivery(STATUS_CHANGE),
        )
        assert (job.status, job.attempts) == ("queued", 0)
        assert timedelta(0) <= job.run_after - delivery.received_at < timedelta(seconds=5)
        assert (delivery.outcome, delivery.processed_at, delivery.event) == (
            None,
            None,
            "jira:issue_updated",
        )


@pytest.mark.postgres
class TestDatabaseConnections:
    async def test_connections_the_server_dropped_are_replaced_without_an_error(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        assert (await deliver(http, instance_id, STATUS_CHANGE, identifier="before")).is_success
        dropped = await session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await session.commit()
        assert dropped >= 1
        response = await deliver(http, instance_id, STATUS_CHANGE, identifier="after")
        assert (response.status_code, response.json()["status"]) == (200, "accepted")
        assert await counts(session) == (2, 2)


async def until_listening(credentials: WebhookCredentials) -> None:
    async with asyncio.timeout(10):
        while not credentials.is_listening:
            await credentials.changed_since(credentials.generation)


async def kept_instance(
    http: httpx.AsyncClient, session: Any, service: Any
) -> tuple[WebhookCredentials, int]:
    """`linked_world` once the service listens and has heard the setup's own instance change
    (else that notification could arrive mid-test), then one delivery: its instance is kept."""
    credentials: WebhookCredentials = service.state.webhook_inbox.credentials
    await until_listening(credentials)
    before = credentials.generation
    instance_id = (await linked_world(session)).instance_id
    async with asyncio.timeout(10):
        await credentials.changed_since(before)
    assert (await deliver(http, instance_id, STATUS_CHANGE, identifier="d-1")).is_success
    assert instance_id in credentials
    return credentials, instance_id


@pytest.mark.postgres
class TestCredentialsInMemory:
    """The PostgreSQL inbox keeps an instance's secret and SyncActive in memory; a change made
    through the API applies to the very next delivery."""

    async def test_a_rotated_secret_and_a_deactivation_apply_at_once(
        self, http: httpx.AsyncClient, session: Any, service: Any
    ) -> None:
        credentials, instance_id = await kept_instance(http, session, service)

        async def change(**fields: Any) -> None:
            before = credentials.generation
            answer = await http.put(
                f"/api/json/JiraInstances/{instance_id}",
                json=fields,
                headers={"Authorization": f"Bearer {API_TOKEN}"},
            )
            assert answer.status_code == 200
            async with asyncio.timeout(10):
                await credentials.changed_since(before)
            assert instance_id not in credentials

        await change(WebhookSecret="rotated-secret-0123456789")
        old = await deliver(http, instance_id, STATUS_CHANGE, identifier="d-2")
        assert old.status_code == 401
        body = json.dumps(STATUS_CHANGE).encode()
        rotated = sign(body, "rotated-secret-0123456789")
        new = await deliver(http, instance_id, body, identifier="d-3", signature=rotated)
        assert (new.status_code, new.json()["status"]) == (200, "accepted")

        await change(SyncActive=False)
        inactive = await deliver(http, instance_id, body, identifier="d-4", signature=rotated)
        assert (inactive.status_code, inactive.json()["status"]) == (202, "inactive")

    async def test_nothing_is_kept_until_the_listener_is_back(
        self, http: httpx.AsyncClient, session: Any, service: Any
    ) -> None:
        credentials, instance_id = await kept_instance(http, session, service)
        before = credentials.generation
        terminated = await session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%jira_instances%'"
            )
        )
        await session.commit()
        assert terminated == 1
        async with asyncio.timeout(10):
            await credentials.changed_since(before)
        assert instance_id not in credentials
        await until_listening(credentials)
        assert (await deliver(http, instance_id, STATUS_CHANGE, identifier="d-2")).is_success
        assert instance_id in credentials


class TestDeduplication:
    async def test_same_delivery_100_times_is_applied_once(
        self, http: httpx.AsyncClient, session: Any, service: Any
    ) -> None:
        world = await linked_world(session)
        instance_id, tickets = world.instance_id, world.tickets
        answers = [
            await deliver(http, instance_id, STATUS_CHANGE, identifier="d-1", retry=n or None)
            for n in range(100)
        ]
        assert {a.status_code for a in answers} == {200}
        assert [a.json()["status"] for a in answers].count("accepted") == 1
        assert await counts(session) == (1, 1)
        await drain(service)
        history = await history_of(session, tickets[0])
        assert history.count("Status changed from Open to In Progress by Jira") == 1

    async def test_without_identifier_the_body_hash_deduplicates(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        for _ in range(3):
            assert (await deliver(http, instance_id, STATUS_CHANGE, identifier=None)).is_success
        assert await counts(session) == (1, 1)


NOT_UTF8_BODIES = [
    *(
        pytest.param(json.dumps(STATUS_CHANGE).encode(encoding), id=encoding)
        for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be")
    ),
    pytest.param(
        json.dumps(
            {"webhookEvent": "jira:issue_updated", "user": "J\xfcrgen"}, ensure_ascii=False
        ).encode("latin-1"),
        id="latin-1",
    ),
]


class TestEncodings:
    @pytest.mark.parametrize("body", NOT_UTF8_BODIES)
    async def test_a_body_not_in_utf8_is_400_and_stores_nothing(
        self, http: httpx.AsyncClient, session: Any, body: bytes
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(http, instance_id, body)
        assert response.status_code == 400, response.text[:300]
        assert "not valid UTF-8" in response.json()["Error"]["Message"]
        assert await counts(session) == (0, 0)

    async def test_a_byte_order_mark_is_allowed(
        self, http: httpx.AsyncClient, session: Any
    ) -> None:
        instance_id = (await linked_world(session)).instance_id
        response = await deliver(http, instance_id, json.dumps(STATUS_CHANGE).encode("utf-8-sig"))
        assert (response.status_code, response.json()["status"]) == (200, "accepted")

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    async def test_numbers_json_does_not_have_are_400_and_store_nothing(
        self, http: httpx.AsyncClient, session: Any, constant: str
    ) -> None:
        """Python's reader takes them; JSON (RFC 8259) and so a stored job's payload does not."""
        instance_id = (await linked_world(session)).instance_id
        body = json.dumps(STATUS_CHANGE).replace('"issue": {', f'"issue": {{"x": {constant}, ', 1)
        response = await deliver(http, instance_id, body.encode())
        assert response.status_code == 400
        assert f"{constant} is not a JSON value" in response.json()["Error"]["Message"]
        assert await counts(session) == (0, 0)
