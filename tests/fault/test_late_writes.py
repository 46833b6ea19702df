"""Jira applying a write after the service gave up waiting for its answer (seen: 22 s late;
Jira's own request timeout is about a minute). Whether it lands within the service's wait or
after its retry, Jira's final state holds the one comment and the one linked issue."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Jira, ServiceFactory, http_client
from tests.support.faults import assert_each_action_once, deadline, linked_tickets
from tests.support.helpdesk import add_action, create_ticket, get_ticket, history
from tests.support.outbound import sim_issues
from tests.support.polling import eventually
from tests.support.world import ready_helpdesk

pytestmark = pytest.mark.fault

# The service waits 1 s for Jira's answer, then 2 s for a late write before writing again.
IMPATIENT = {"JIRA_TIMEOUT_SECONDS": "1", "JIRA_LATE_WRITE_SECONDS": "2"}
WITHIN_THE_WAIT = 1.8  # Jira applies the write this long after it was sent
AFTER_THE_RETRY = 4.5


async def late_writes_applied(jira: Jira, faults: list[Any]) -> None:
    """Until Jira has applied every delayed write (the simulator records its answer, which
    nobody is waiting for any more)."""

    async def pending() -> list[int]:
        applied = {r.fault_id for r in jira.sim.requests if r.status is not None}
        return [fault.id for fault in faults if fault.id not in applied]

    await eventually(pending, lambda left: not left, timeout=15.0, what="late writes applied")


@deadline(60)
async def test_a_comment_jira_applies_late_is_one_comment(
    start_service: ServiceFactory, jira: Jira
) -> None:
    async with start_service(**IMPATIENT) as server, http_client(server) as api:
        await ready_helpdesk(api, jira.base_url)
        links = await linked_tickets(api, jira.sim, 2)
        faults = [
            jira.sim.add_fault(
                "POST", f"/issue/{jira.sim.issue(link.issue_key).id}/comment$", delay=delay
            )
            for link, delay in zip(links, [WITHIN_THE_WAIT, AFTER_THE_RETRY], strict=True)
        ]
        accepted = [await add_action(api, link.ticket_id, "Exactly once") for link in links]
        await late_writes_applied(jira, faults)

        async def sync_log_lines() -> list[str]:
            logs = (await api.get("/api/json/Reports/CrmSyncLogs")).json()["CrmSyncLogs"]
            return [log["Message"] for log in logs]

        await eventually(
            sync_log_lines,
            lambda lines: any(line.startswith("Removed comment") for line in lines),
            timeout=15.0,
            what="the late copy removed",
        )
        await assert_each_action_once(api, jira.sim, links, accepted)


@deadline(60)
async def test_an_issue_jira_creates_late_is_linked_once(
    start_service: ServiceFactory, jira: Jira
) -> None:
    async with start_service(**IMPATIENT) as server, http_client(server) as api:
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
    start_service: ServiceFactory, jira: Jira
) -> None:
    async with start_service(**IMPATIENT) as server, http_client(server) as api:
        await ready_helpdesk(api, jira.base_url)
        fault = jira.sim.add_fault("POST", "/rest/api/2/issue$", delay=AFTER_THE_RETRY)
        ticket = await create_ticket(api, Name="Later still", JiraKey="NewJiraIssue")
        await late_writes_applied(jira, [fault])
        lines = await eventually(
            lambda: history(api, ticket["ID"]),
            lambda found: any("late" in line and "delete it in Jira" in line for line in found),
            timeout=15.0,
            what="the late issue reported",
        )
        answer = await get_ticket(api, ticket["ID"])
        late = [i.key for i in sim_issues(jira.sim) if i.key != answer["JiraKey"]]
        assert answer["JiraSyncStatus"] == "Linked"
        assert len(late) == 1
        assert any(f"Jira created {late[0]} late" in line for line in lines)
