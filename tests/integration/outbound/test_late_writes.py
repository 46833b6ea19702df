"""Jira applying a write after its answer was lost: the retry waits for it and finds it; when
Jira is later still, the second copy is removed (a comment) or reported (an issue)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from app.core.db import utcnow
from app.jobs.models import JobStatus, SyncJob
from tests.support.helpdesk import add_action, create_ticket, get_action, get_ticket, history
from tests.support.jobs import drain, jobs_of_kind
from tests.support.outbound import jira_applies, sim_issues, sync_logs, sync_property
from tests.support.world import Helpdesk, LinkedTicket

LATE = 30.0  # seconds Jira may take to apply a write whose answer was lost


@pytest.fixture
def patient(sim_app: Any) -> Any:
    """The app waiting `LATE` seconds for a late write (the suite's default is no wait)."""
    ctx = sim_app.state.worker_context
    ctx.settings = ctx.settings.model_copy(update={"jira_late_write_seconds": LATE})
    return sim_app


async def waits_for_a_late_write(app: Any, kind: str) -> bool:
    (job,) = await jobs_of_kind(app, kind)
    return job.status == JobStatus.QUEUED and job.run_after - utcnow() > timedelta(seconds=LATE - 5)


async def time_passes(app: Any) -> None:
    """Every queued job is due now, as if the late-write wait had passed; they run."""
    async with app.state.session_factory() as session, session.begin():
        await session.execute(
            update(SyncJob)
            .where(col(SyncJob.status) == JobStatus.QUEUED)
            .values(run_after=utcnow())
        )
    await drain(app)


class TestComments:
    async def test_a_comment_jira_applies_within_the_wait_is_found_not_added_again(
        self, patient: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        ticket, key = linked.ticket, linked.issue_key
        jira_sim.add_fault("POST", "/comment$", status=503, times=1)  # answered, not yet applied
        action = await add_action(sim_client, ticket["ID"], "Once only")
        await drain(patient)
        assert await waits_for_a_late_write(patient, "jira.push_comment")
        late = sync_property({"actionId": action["ID"], "ticketId": ticket["ID"]})
        await jira_applies(
            jira_sim, f"/rest/api/2/issue/{key}/comment", {"body": "Once only", "properties": late}
        )

        await time_passes(patient)
        (comment,) = jira_sim.issue(key).comments
        assert (await get_action(sim_client, ticket["ID"], action["ID"]))["JiraCommentID"] == (
            comment.id
        )
        assert await jobs_of_kind(patient, "jira.check_late_comment") == []

    async def test_a_copy_jira_applies_after_the_retry_is_removed(
        self, patient: Any, sim_client: httpx.AsyncClient, jira_sim: Any, linked: LinkedTicket
    ) -> None:
        ticket, key = linked.ticket, linked.issue_key
        jira_sim.add_fault("POST", "/comment$", status=503, times=1)
        action = await add_action(sim_client, ticket["ID"], "Once only")
        await drain(patient)
        await time_passes(patient)  # nothing came: the retry adds the comment
        (kept,) = jira_sim.issue(key).comments
        assert await waits_for_a_late_write(patient, "jira.check_late_comment")
        late = sync_property({"actionId": action["ID"], "ticketId": ticket["ID"]})
        await jira_applies(
            jira_sim, f"/rest/api/2/issue/{key}/comment", {"body": "Once only", "properties": late}
        )
        assert len(jira_sim.issue(key).comments) == 2

        await time_passes(patient)
        assert [comment.id for comment in jira_sim.issue(key).comments] == [kept.id]
        assert (await get_action(sim_client, ticket["ID"], action["ID"]))["JiraCommentID"] == (
            kept.id
        )
        messages = [log.message for log in await sync_logs(patient)]
        assert any(m.startswith("Removed comment ") and "added late" in m for m in messages)


class TestIssues:
    async def test_an_issue_jira_creates_after_the_retry_is_reported_not_linked(
        self, patient: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        jira_sim.add_fault("POST", "/rest/api/2/issue$", status=503, times=1)
        ticket = await create_ticket(sim_client, Name="Printer on fire", JiraKey="NewJiraIssue")
        await drain(patient)
        assert await waits_for_a_late_write(patient, "jira.link_ticket")
        await time_passes(patient)  # nothing came: the retry creates the issue
        (kept,) = sim_issues(jira_sim)
        assert (await get_ticket(sim_client, ticket["ID"]))["JiraKey"] == kept.key
        (link_job,) = await jobs_of_kind(patient, "jira.link_ticket")
        await jira_applies(
            jira_sim,
            "/rest/api/2/issue",
            {
                "fields": {
                    "project": {"key": "DEMO"},
                    "issuetype": {"name": "Task"},
                    "summary": "Printer on fire",
                },
                "properties": sync_property({"ticketId": ticket["ID"], "jobId": link_job.id}),
            },
        )
        late = next(issue for issue in sim_issues(jira_sim) if issue.key != kept.key)

        await time_passes(patient)
        answer = await get_ticket(sim_client, ticket["ID"])
        assert (answer["JiraSyncStatus"], answer["JiraKey"]) == ("Linked", kept.key)
        lines = await history(sim_client, ticket["ID"])
        assert any(
            f"Jira created {late.key} late" in line and "delete it in Jira" in line
            for line in lines
        )
