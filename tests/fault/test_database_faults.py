"""PostgreSQL connections cut (`pg_terminate_backend`) while work flows: the service (a closed
pooled connection is replaced before use), the worker (claim retry) and its LISTEN connection
(reconnect) recover, and every job completes exactly once."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.e2e.conftest import Jira, ServiceFactory, http_client
from tests.support.faults import (
    assert_each_action_once,
    deadline,
    linked_tickets,
    post_action_reliably,
    post_actions_reliably,
    wait_all_pushed,
)
from tests.support.world import ready_helpdesk

pytestmark = [pytest.mark.fault, pytest.mark.postgres]

CUT_ALL = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


async def cut_connections(database_url: str, times: int, every: float) -> list[int]:
    """Terminate every other session on the test database `times` times; how many each time."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    cut: list[int] = []
    try:
        for _ in range(times):
            await asyncio.sleep(every)
            cut.append(int(await connection.fetchval(CUT_ALL)))
    finally:
        await connection.close()
    return cut


@deadline(45)
async def test_database_connections_cut_while_work_flows(
    start_service: ServiceFactory, jira: Jira, database_url: str
) -> None:
    env = {"RUN_WORKER": "false", "JOB_LEASE_SECONDS": "3"}
    async with start_service(**env) as server, http_client(server) as api:
        await ready_helpdesk(api, jira.base_url)
        async with start_service("worker", **env):
            links = await linked_tickets(api, jira.sim, 10)
            jira.sim.add_fault("POST", r"/comment$", delay=0.02, times=None)  # work in flight
            cutter = asyncio.create_task(cut_connections(database_url, times=5, every=0.4))
            accepted: list[dict[str, Any]] = await post_actions_reliably(api, links, 6, "Cut")
            cut = await cutter
            # After the last cut, more work: only a re-established LISTEN wakes the worker for it
            # before its 30 s idle check.
            for link in links:
                text = f"After the cuts on {link.ticket_id}"
                accepted.append(await post_action_reliably(api, link.ticket_id, text))
            await wait_all_pushed(api, jira.sim, [link.ticket_id for link in links], 70, 25.0)
        assert all(n > 0 for n in cut), cut
        await assert_each_action_once(api, jira.sim, links, accepted)
