"""Jira -> tickets end to end: the simulator's signed webhooks to the service as a real process,
applied by separate worker processes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Jira, ServiceFactory, http_client
from tests.support.helpdesk import API, create_ticket, get_ticket, history, ok
from tests.support.polling import eventually
from tests.support.world import ready_helpdesk

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "e2e-inbound-webhook-secret"
ISSUES = 24
# Each issue's changes in Jira, in order, and the History they leave on its ticket.
CHANGES = ["In Progress", "Done", "In Progress"]
STATUS_LINES = [
    "Status changed from New to In Progress by Jira",
    "Status changed from In Progress to Done by Jira",
    "Status changed from Done to In Progress by Jira",
]


async def jobs_of_kind(api: httpx.AsyncClient, kind: str) -> list[dict[str, Any]]:
    """The jobs of `kind` still to run (or retrying, or failed)."""
    jobs: list[dict[str, Any]] = (await ok(await api.get(f"{API}/SyncJobs?Kind={kind}")))[
        "SyncJobs"
    ]
    return jobs


async def status_lines(api: httpx.AsyncClient, ticket_id: int) -> list[str]:
    return [line for line in await history(api, ticket_id) if line.startswith("Status")]


@pytest.mark.postgres
async def test_a_backlog_over_many_issues_is_applied_by_two_workers_once_and_in_order(
    start_service: ServiceFactory, jira: Jira
) -> None:
    """Jira's changes to many issues, stored while no worker runs; then two worker processes,
    whose jobs apply other issues' deliveries with their own: each change once, in order."""
    # No periodic reconcile: it would read the issues' state from Jira meanwhile, and the
    # deliveries older than that would rightly be stale (no History line to count).
    worker_env = {"RUN_WORKER": "false", "RECONCILE_INTERVAL_SECONDS": "0"}
    async with start_service(**worker_env) as server, http_client(server) as api:
        helpdesk = await ready_helpdesk(
            api, jira.base_url, WebhookSecret=WEBHOOK_SECRET, UpdateTicketStatus=True
        )
        for name in ("In Progress", "Done"):
            status = {"Name": name, "TicketTypeID": helpdesk.types["Task"]}
            await ok(await api.post(f"{API}/TicketStatuses", json=status), 201)
        issues = [jira.sim.create_issue("DEMO", f"Issue {n}") for n in range(ISSUES)]
        async with start_service("worker", **worker_env):
            tickets = [await create_ticket(api, JiraKey=issue.key) for issue in issues]
            await eventually(
                lambda: asyncio.gather(*(get_ticket(api, t["ID"]) for t in tickets)),
                lambda rows: all(row["JiraSyncStatus"] == "Linked" for row in rows),
                timeout=30.0,
                what="every ticket linked",
            )
            # a link reads the issue's state from Jira (`jira.refresh_issue`): done before
            # Jira changes, or the changes' deliveries would rightly be stale
            await eventually(
                lambda: jobs_of_kind(api, "jira.refresh_issue"),
                lambda jobs: not jobs,
                timeout=30.0,
                what="every linked issue read",
            )
        jira.sim.register_webhook(f"{server.base_url}/webhooks/jira/1", secret=WEBHOOK_SECRET)
        for status_name in CHANGES:
            for issue in issues:
                jira.sim.transition_issue(issue.key, status_name)
        await jira.sim.webhooks_idle()

        async def every_history() -> list[list[str]]:
            return list(await asyncio.gather(*(status_lines(api, t["ID"]) for t in tickets)))

        async with start_service("worker", **worker_env), start_service("worker", **worker_env):
            await eventually(
                every_history,
                lambda all_lines: all(len(lines) >= len(CHANGES) for lines in all_lines),
                timeout=30.0,
                what="every change applied",
            )
        assert await every_history() == [STATUS_LINES] * ISSUES
        rows: list[dict[str, Any]] = await asyncio.gather(
            *(get_ticket(api, t["ID"]) for t in tickets)
        )
        assert {row["Status"] for row in rows} == {"In Progress"}
