"""Jira applying a write after the service gave up waiting for its answer (seen: 22 s late;
Jira's own request timeout is about a minute). Whether it lands within the service's wait or
after its retry, Jira's final state holds the one comment and the one linked issue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.conftest import Jira, factory, http_client
from tests.support.faults import (
    assert_each_action_once,
    comments_by_action,
    deadline,
    linked_tickets,
)
from tests.support.helpdesk import add_action, create_ticket, get_ticket, history
from tests.support.live import LiveService
from tests.support.outbound import jira_applies, sim_issues, sync_property
from tests.support.polling import eventually
from tests.support.world import ready_helpdesk

pytestmark = pytest.mark.fault

# The service waits 1 s for Jira's answer, then 2 s for a late write before writing again.
IMPATIENT = {"JIRA_TIMEOUT_SECONDS": "1", "JIRA_LATE_WRITE_SECONDS": "2"}
# Jira applies the write this long after it was sent: after the service stopped waiting for the
# answer (1 s), before its retry looks (3 s).
WITHIN_THE_WAIT = 1.8


@pytest.fixture(scope="module")
async def impatient_service(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveService]:
    """One service for the module's tests (the database is emptied before each, `db`)."""
    async with factory(database_url, tmp_path_factory.mktemp("impatient"))(**IMPATIENT) as running:
        yield running


@pytest.fixture
def server(impatient_service: LiveService, db: Any) -> LiveService:
    return impatient_service


async def late_writes_applied(jira: Jira, faults: list[Any]) -> None:
    """Until Jira has applied every delayed write (the simulator records its answer, which
    nobody is waiting for any more)."""

    async def pending() -> list[int]:
        applied = {r.fault_id for r in jira.sim.requests if r.status is not None}
        return [fault.id for fault in faults if fault.id not in applied]

    await eventually(pending, lambda left: not left, timeout=15.0, what="late writes applied")


@deadline(60)
async def test_a_comment_jira_applies_late_is_one_comment(server: LiveService, jira: Jira) -> None:
    async with http_client(server) as api:
        await ready_helpdesk(api, jira.base_url)
        soon, later = await linked_tickets(api, jira.sim, 2)
        comments = "/issue/{}/comment$"
        delayed = jira.sim.add_fault(
            "POST", comments.format(jira.sim.issue(soon.issue_key).id), delay=WITHIN_THE_WAIT
        )
        # Answered 503 and applied only after the service's retry has added the comment again.
        jira.sim.add_fault("POST", comments.format(jira.sim.issue(later.issue_key).id), status=503)
        accepted = [await add_action(api, link.ticket_id, "Exactly once") for link in (soon, later)]

        async def retried() -> int:
            return comments_by_action(jira.sim)[0][int(accepted[1]["ID"])]

        await eventually(retried, lambda n: n == 1, timeout=15.0, what="the retry's comment")
        late = sync_property({"actionId": accepted[1]["ID"], "ticketId": later.ticket_id})
        await jira_applies(
            jira.sim,
            f"/rest/api/2/issue/{later.issue_key}/comment",
            {"body": "Exactly once", "properties": late},
        )
        await late_writes_applied(jira, [delayed])

        async def sync_log_lines() -> list[str]:
            logs = (await api.get("/api/json/Reports/CrmSyncLogs")).json()["CrmSyncLogs"]
            return [log["Message"] for log in logs]

        await eventually(
            sync_log_lines,
            lambda lines: any(line.startswith("Removed comment") for line in lines),
            timeout=15.0,
            what="the late copy removed",
        )
        await assert_each_action_once(api, jira.sim, [soon, later], accepted)


@deadline(60)
async def test_an_issue_jira_creates_late_is_linked_once(server: LiveService, jira: Jira) -> None:
    async with http_client(server) as api:
        await ready_helpdesk(api, jira.base_url)
        fault = jira.sim.add_fault("POST", "/rest/api/2/issue$", delay=WITHIN_THE_WAIT)
        ticket = await create_ticket(api, Name="Late but once", JiraKey="NewJiraIssue")
        await late_writes_applied(jira, [fault])
        answer = await eventually(
            lambda: get_ticket(api, ticket["ID"]),
            lambda t: t["JiraSyncStatus"] != "Pending",
            timeout=15.0,
            what="the ticket linked",
        )
        (issue,) = sim_issues(jira.sim)
        assert (answer["JiraSyncStatus"], answer["JiraKey"]) == ("Linked", issue.key)


@deadline(60)
async def test_an_issue_jira_creates_after_the_retry_is_reported_not_linked(
    server: LiveService, jira: Jira
) -> None:
    async with http_client(server) as api:
        await ready_helpdesk(api, jira.base_url)
        jira.sim.add_fault("POST", "/rest/api/2/issue$", status=503)
        ticket = await create_ticket(api, Name="Later still", JiraKey="NewJiraIssue")
        linked = await eventually(
            lambda: get_ticket(api, ticket["ID"]),
            lambda t: t["JiraSyncStatus"] != "Pending",
            timeout=15.0,
            what="the ticket linked by the retry",
        )
        kept = jira.sim.issue(linked["JiraKey"])
        fields = {
            "project": {"key": "DEMO"},
            "issuetype": {"name": "Task"},
            "summary": "Later still",
        }
        made_for = kept.properties["helpdesk-sync"]
        await jira_applies(
            jira.sim, "/rest/api/2/issue", {"fields": fields, "properties": sync_property(made_for)}
        )
        (late,) = [issue.key for issue in sim_issues(jira.sim) if issue.key != kept.key]

        lines = await eventually(
            lambda: history(api, ticket["ID"]),
            lambda found: any(f"Jira created {late} late" in line for line in found),
            timeout=15.0,
            what="the late issue reported",
        )
        assert any("delete it in Jira" in line for line in lines)
        answer = await get_ticket(api, ticket["ID"])
        assert (answer["JiraSyncStatus"], answer["JiraKey"]) == ("Linked", kept.key)
