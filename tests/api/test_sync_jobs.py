"""The sync queue (`GET /SyncJobs`, `POST /SyncJobs/{ID}/Retry`, `DELETE /SyncJobs/{ID}`) and an
instance's `GET /JiraInstances/{ID}/Health`, in both formats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.core.db import utcnow
from app.inbox.models import WebhookDelivery
from app.integration.job_kinds import Reconcile
from app.integration.models import SyncLog
from app.jobs.models import SyncJob
from app.jobs.outbox import enqueue
from tests.support.api import HelpdeskApi
from tests.support.helpdesk import add_action, create_ticket, get_action, get_ticket, history
from tests.support.jobs import drain
from tests.support.outbound import comment_lines
from tests.support.world import linked_ticket, ready_helpdesk


@pytest.fixture
async def sim_api(sim_client: httpx.AsyncClient, fmt: str) -> HelpdeskApi:
    await ready_helpdesk(sim_client)
    return HelpdeskApi(sim_client, fmt)


async def failed_link(sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any) -> int:
    """A ticket whose link to an existing issue ended in Error (Jira refused the GET once)."""
    issue = jira_sim.create_issue("DEMO", "Existing problem")
    jira_sim.add_fault("GET", f"/issue/{issue.key}$", status=400, times=1)
    ticket = await create_ticket(sim_client, JiraKey=issue.key)
    await drain(sim_app)
    assert (await get_ticket(sim_client, ticket["ID"]))["JiraSyncStatus"] == "Error"
    return int(ticket["ID"])


async def failed_push(sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any) -> Any:
    """On a linked ticket, an action whose push gave up (Jira failed every attempt)."""
    linked = await linked_ticket(sim_app, sim_client, jira_sim)
    attempts = sim_app.state.settings.job_max_attempts
    jira_sim.add_fault("POST", "/comment$", status=503, times=attempts)
    action = await add_action(sim_client, linked.ticket["ID"], "Please call back")
    await drain(sim_app)
    return linked, action


class TestListSyncJobs:
    async def test_failed_jobs_with_their_ticket_instance_and_error(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, sim_api: HelpdeskApi
    ) -> None:
        ticket_id = await failed_link(sim_app, sim_client, jira_sim)
        answer = await sim_api.get("/SyncJobs", params={"Status": "Failed"})
        (job,) = answer.many("SyncJobs")
        assert job["Kind"] == "jira.link_ticket"
        assert job["Status"] == "Failed"
        assert (job["TicketID"], job["JiraInstanceID"]) == (ticket_id, 1)
        assert job["LastError"]
        assert job["NextTry"] is None
        assert answer.response.headers["X-Total-Count"] == "1"

    async def test_filters_by_status_kind_ticket_and_instance(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, sim_api: HelpdeskApi
    ) -> None:
        failed = await failed_link(sim_app, sim_client, jira_sim)
        queued = await create_ticket(sim_client, JiraKey="NewJiraIssue")  # not run yet

        async def ids(**params: Any) -> list[tuple[int, str]]:
            jobs = (await sim_api.get("/SyncJobs", params=params)).many("SyncJobs")
            return [(job["TicketID"], job["Status"]) for job in jobs]

        assert await ids() == [(failed, "Failed"), (queued["ID"], "Queued")]
        assert await ids(Status="Queued") == [(queued["ID"], "Queued")]
        assert await ids(Status="Retrying") == []
        assert await ids(TicketID=failed) == [(failed, "Failed")]
        assert await ids(Kind="jira.push_comment") == []
        assert len(await ids(Kind="jira.link_ticket", JiraInstanceID=1)) == 2
        assert await ids(JiraInstanceID=2) == []

    async def test_a_job_waiting_to_try_again_is_retrying_with_its_next_try(
        self, sim_app: Any, sim_api: HelpdeskApi
    ) -> None:
        later = utcnow() + timedelta(minutes=10)
        async with sim_app.state.session_factory() as session:
            await enqueue(session, Reconcile(instance_id=1), run_after=later)
            await session.execute(update(SyncJob).values(attempts=2, last_error="Jira said 503"))
            await session.commit()
        (job,) = (await sim_api.get("/SyncJobs", params={"Status": "Retrying"})).many("SyncJobs")
        assert (job["Kind"], job["JiraInstanceID"], job["TicketID"]) == ("jira.reconcile", 1, None)
        assert str(job["Attempts"]) == "2"
        assert job["LastError"] == "Jira said 503"
        assert job["NextTry"].startswith(later.strftime("%Y-%m-%dT%H:%M"))

    async def test_a_status_the_queue_does_not_know_is_a_400(self, sim_api: HelpdeskApi) -> None:
        answer = await sim_api.get("/SyncJobs", params={"Status": "Done"})
        assert answer.status == 400
        assert answer.error["Code"] == "BadRequest"


class TestRetry:
    async def test_a_failed_link_runs_again_and_the_ticket_follows(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, sim_api: HelpdeskApi
    ) -> None:
        ticket_id = await failed_link(sim_app, sim_client, jira_sim)
        (job,) = (await sim_api.get("/SyncJobs", params={"Status": "Failed"})).many("SyncJobs")
        answer = await sim_api.request("POST", f"/SyncJobs/{job['ID']}/Retry")
        assert answer.one("SyncJob")["Status"] == "Queued"
        assert (await get_ticket(sim_client, ticket_id))["JiraSyncStatus"] == "Pending"
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket_id))["JiraSyncStatus"] == "Linked"
        assert (await sim_api.get("/SyncJobs")).many("SyncJobs") == []
        assert any(
            line.startswith("Failed Jira sync retried by tester: link to DEMO-")
            for line in await history(sim_client, ticket_id)
        )

    async def test_a_link_failing_again_is_in_error_again(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, sim_api: HelpdeskApi
    ) -> None:
        ticket_id = await failed_link(sim_app, sim_client, jira_sim)
        (job,) = (await sim_api.get("/SyncJobs", params={"Status": "Failed"})).many("SyncJobs")
        jira_sim.add_fault("GET", "/issue/", status=400, times=1)
        await sim_api.request("POST", f"/SyncJobs/{job['ID']}/Retry")
        await drain(sim_app)
        assert (await get_ticket(sim_client, ticket_id))["JiraSyncStatus"] == "Error"
        (again,) = (await sim_api.get("/SyncJobs", params={"Status": "Failed"})).many("SyncJobs")
        assert again["ID"] == job["ID"]

    async def test_a_push_that_gave_up_delivers_its_comment_once(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, sim_api: HelpdeskApi
    ) -> None:
        linked, action = await failed_push(sim_app, sim_client, jira_sim)
        assert comment_lines(jira_sim.issue(linked.issue_key)) == []
        (job,) = (await sim_api.get("/SyncJobs", params={"Status": "Failed"})).many("SyncJobs")
        assert job["Kind"] == "jira.push_comment"
        await sim_api.request("POST", f"/SyncJobs/{job['ID']}/Retry")
        await drain(sim_app)
        assert comment_lines(jira_sim.issue(linked.issue_key)) == ["Please call back"]
        stored = await get_action(sim_client, linked.ticket["ID"], action["ID"])
        assert stored["JiraCommentID"] == jira_sim.issue(linked.issue_key).comments[0].id

    async def test_only_a_failed_job_is_retried(
        self, sim_client: httpx.AsyncClient, sim_api: HelpdeskApi
    ) -> None:
        await create_ticket(sim_client, JiraKey="NewJiraIssue")
        (job,) = (await sim_api.get("/SyncJobs")).many("SyncJobs")
        answer = await sim_api.request("POST", f"/SyncJobs/{job['ID']}/Retry")
        assert answer.status == 409
        assert answer.error["Code"] == "Conflict"
        assert "only a Failed job" in answer.error["Message"]

    async def test_an_unknown_job_is_a_404(self, sim_api: HelpdeskApi) -> None:
        answer = await sim_api.request("POST", "/SyncJobs/999999/Retry")
        assert answer.status == 404
        assert answer.error["Code"] == "NotFound"


class TestDiscard:
    async def test_a_failed_job_is_discarded_with_a_history_line(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, sim_api: HelpdeskApi
    ) -> None:
        linked, action = await failed_push(sim_app, sim_client, jira_sim)
        (job,) = (await sim_api.get("/SyncJobs", params={"Status": "Failed"})).many("SyncJobs")
        assert (await sim_api.delete(f"/SyncJobs/{job['ID']}")).status == 204
        assert (await sim_api.get("/SyncJobs")).many("SyncJobs") == []
        assert (
            f"Failed Jira sync discarded by tester: action {action['ID']} as a Jira comment"
            in await history(sim_client, linked.ticket["ID"])
        )
        assert (await sim_api.delete(f"/SyncJobs/{job['ID']}")).status == 404

    async def test_a_queued_job_is_not_discarded(
        self, sim_client: httpx.AsyncClient, sim_api: HelpdeskApi
    ) -> None:
        await create_ticket(sim_client, JiraKey="NewJiraIssue")
        (job,) = (await sim_api.get("/SyncJobs")).many("SyncJobs")
        assert (await sim_api.delete(f"/SyncJobs/{job['ID']}")).status == 409
        assert len((await sim_api.get("/SyncJobs")).many("SyncJobs")) == 1


def delivery(n: int, *, ago: timedelta, took: timedelta | None, outcome: str = "applied") -> Any:
    received = utcnow() - ago
    return WebhookDelivery(
        source="jira",
        delivery_id=f"d-{n}",
        jira_instance_id=1,
        event="jira:issue_updated",
        body="{}",
        received_at=received,
        processed_at=received + took if took is not None else None,
        outcome=outcome if took is not None else None,
    )


class TestHealth:
    async def test_webhooks_errors_queue_and_latency(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, sim_api: HelpdeskApi
    ) -> None:
        await failed_link(sim_app, sim_client, jira_sim)
        await create_ticket(sim_client, JiraKey="NewJiraIssue")  # queued
        async with sim_app.state.session_factory() as session:
            session.add_all(
                [
                    delivery(n, ago=timedelta(minutes=5), took=timedelta(milliseconds=100 * n))
                    for n in range(1, 11)
                ]
                + [
                    delivery(
                        11, ago=timedelta(minutes=2), took=timedelta(seconds=30), outcome="unlinked"
                    ),
                    delivery(12, ago=timedelta(hours=3), took=timedelta(seconds=60)),
                    SyncLog(
                        jira_instance_id=1,
                        direction="FromJira",
                        event="x",
                        status="Error",
                        date_created=utcnow() - timedelta(hours=2),
                    ),
                ]
            )
            await session.commit()
        health = (await sim_api.get("/JiraInstances/1/Health")).one("Health")
        numbers = {
            k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in health.items()
        }
        assert numbers["DeliveriesLastHour"] == 11
        assert numbers["DeliveriesLast24Hours"] == 12
        assert numbers["ErrorsLastHour"] == 1  # the failed link
        assert numbers["ErrorsLast24Hours"] == 2
        assert numbers["QueueDepth"] == 1
        assert numbers["FailedJobs"] == 1
        assert numbers["LatencyP50Ms"] == 500
        assert numbers["LatencyP99Ms"] == 1000
        assert health["LastWebhookReceived"] is not None

    async def test_an_instance_without_traffic_has_no_latency(self, sim_api: HelpdeskApi) -> None:
        health = (await sim_api.get("/JiraInstances/1/Health")).one("Health")
        assert health["LastWebhookReceived"] is None
        assert health["LatencyP50Ms"] is None
        assert str(health["DeliveriesLastHour"]) == "0"

    async def test_an_unknown_instance_is_a_404(self, sim_api: HelpdeskApi) -> None:
        answer = await sim_api.get("/JiraInstances/4242/Health")
        assert answer.status == 404
        assert answer.error["Code"] == "NotFound"
