"""The Sync screen in process: the Queue with Retry and Discard on failed jobs, and the
CRM Sync Errors and Logs reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.console.conftest import console_client, csrf_of, signed_in_client
from tests.support.helpdesk import API, add_action, create_ticket, history, ok
from tests.support.jobs import drain
from tests.support.outbound import comment_lines
from tests.support.outgoing_fixtures import subscribe
from tests.support.receiver import Receiver
from tests.support.world import linked_ticket, ready_helpdesk, seed_helpdesk


@pytest.fixture
async def console(sim_app: Any, sim_client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    await ready_helpdesk(sim_client)
    async with console_client(sim_app) as client:
        await signed_in_client(client)
        yield client


async def failed_push(sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any) -> Any:
    linked = await linked_ticket(sim_app, sim_client, jira_sim)
    jira_sim.add_fault(
        "POST", "/comment$", status=503, times=sim_app.state.settings.job_max_attempts
    )
    await add_action(sim_client, linked.ticket["ID"], "Call me back")
    await drain(sim_app)
    (job,) = (await ok(await sim_client.get(f"{API}/SyncJobs", params={"Status": "Failed"})))[
        "SyncJobs"
    ]
    return linked, job


class TestQueue:
    async def test_a_failed_job_shows_with_its_error_retry_and_discard(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        _, job = await failed_push(sim_app, sim_client, jira_sim)
        page = (await console.get("/console/sync", params={"status": "Failed"})).text
        assert f'<tr data-job="{job["ID"]}">' in page
        assert "Gave up after" in page
        assert f'aria-label="Retry job {job["ID"]}"' in page
        assert f'aria-label="Discard job {job["ID"]}"' in page

    async def test_retry_delivers_the_comment_once(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        linked, job = await failed_push(sim_app, sim_client, jira_sim)
        csrf = await csrf_of(console, "/console/sync")
        response = await console.post(f"/console/sync/{job['ID']}/retry", data={"csrf_token": csrf})
        assert response.headers["location"] == "/console/sync?notice=retried"
        await drain(sim_app)
        assert comment_lines(jira_sim.issue(linked.issue_key)) == ["Call me back"]
        assert "The queue is empty." in (await console.get("/console/sync")).text
        assert any(
            "retried by Console" in line for line in await history(sim_client, linked.ticket["ID"])
        )

    async def test_discard_removes_it(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        _, job = await failed_push(sim_app, sim_client, jira_sim)
        csrf = await csrf_of(console, "/console/sync")
        await console.post(f"/console/sync/{job['ID']}/discard", data={"csrf_token": csrf})
        assert (await ok(await sim_client.get(f"{API}/SyncJobs")))["SyncJobs"] == []

    async def test_a_job_that_is_not_failed_is_not_retried(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        await create_ticket(sim_client, JiraKey="NewJiraIssue")
        (job,) = (await ok(await sim_client.get(f"{API}/SyncJobs")))["SyncJobs"]
        csrf = await csrf_of(console, "/console/sync")
        response = await console.post(f"/console/sync/{job['ID']}/retry", data={"csrf_token": csrf})
        assert response.status_code == 409
        assert "only a Failed job can be retried" in response.text

    async def test_retry_needs_the_csrf_token(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        _, job = await failed_push(sim_app, sim_client, jira_sim)
        assert (await console.post(f"/console/sync/{job['ID']}/retry")).status_code == 403
        failed = await ok(await sim_client.get(f"{API}/SyncJobs", params={"Status": "Failed"}))
        assert len(failed["SyncJobs"]) == 1


class TestReports:
    async def test_errors_then_logs_filtered_by_ticket(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        bad = await create_ticket(sim_client, JiraKey="DEMO-999")
        await drain(sim_app)
        errors = (await console.get("/console/sync")).text
        assert "CRM Sync Errors" in errors
        assert "DEMO-999" in errors
        logs = (
            await console.get("/console/sync", params={"show": "logs", "ticket": bad["ID"]})
        ).text
        assert '<h2 id="logs-heading">CRM Sync Logs</h2>' in logs
        other = (await console.get("/console/sync", params={"ticket": bad["ID"] + 1})).text
        assert "DEMO-999" not in other


class TestEventDeliveries:
    async def test_a_refused_event_shows_and_retry_sends_it_again_with_its_id(
        self, events_app: Any, events_client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        await subscribe(events_client, receiver)
        ticket = await create_ticket(events_client)
        receiver.script(400)  # refused: Failed at once
        await ok(await events_client.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "A"}))
        await drain(events_app)
        (delivery,) = (await ok(await events_client.get(f"{API}/EventDeliveries")))[
            "EventDeliveries"
        ]
        async with console_client(events_app) as console:
            await signed_in_client(console)
            page = (await console.get("/console/sync")).text
            assert f'<tr data-delivery="{delivery["ID"]}">' in page
            assert "The receiver refused the event (HTTP 400)." in page
            csrf = await csrf_of(console, "/console/sync")
            answer = await console.post(
                f"/console/sync/events/{delivery['ID']}/retry", data={"csrf_token": csrf}
            )
            assert answer.headers["location"] == "/console/sync?notice=replayed"
            await drain(events_app)
            again = (await console.get("/console/sync")).text
        assert "Delivered" in again
        ids = [a.webhook_id for a in receiver.received()]
        assert ids == [delivery["EventID"], delivery["EventID"]]

    async def test_a_pending_delivery_is_not_replayed(
        self, events_app: Any, events_client: httpx.AsyncClient, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        await subscribe(events_client, receiver)
        ticket = await create_ticket(events_client)
        await ok(await events_client.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "A"}))
        (delivery,) = (await ok(await events_client.get(f"{API}/EventDeliveries")))[
            "EventDeliveries"
        ]
        async with console_client(events_app) as console:
            await signed_in_client(console)
            csrf = await csrf_of(console, "/console/sync")
            answer = await console.post(
                f"/console/sync/events/{delivery['ID']}/retry", data={"csrf_token": csrf}
            )
        assert answer.status_code == 409
        assert "still Pending" in answer.text
