"""A quota 429 (Jira Cloud's points-based quota of the tenant or app) pauses every call to the
instance until the time Jira gave: the other jobs wait without asking Jira, the pause and its
reason are in the instance's sync logs, and afterwards every comment is there once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import api_client, started
from tests.support import server_errors
from tests.support.helpdesk import add_action
from tests.support.jobs import drain
from tests.support.outbound import comment_lines, sim_requests, sync_logs
from tests.support.polling import eventually
from tests.support.world import linked_ticket, ready_helpdesk

PAUSE = 1.0  # seconds Jira asks for


@pytest.fixture
async def quick_app(
    make_settings: Callable[..., Settings], db: Any, jira_sim: Any
) -> AsyncIterator[Any]:
    """The simulator-backed app that never waits for a 429 in place: every wait is the job's."""
    settings = make_settings(
        jira_max_wait_seconds=0.0,
        jira_retry_base_seconds=0.0,
        job_retry_base_seconds=0.0,
        job_retry_max_seconds=0.0,
        jira_search_settle_seconds=0.0,
        jira_late_write_seconds=0.0,
    )
    application = create_app(settings, jira_transport=httpx.ASGITransport(app=jira_sim.app))
    server_errors.install(application)
    async with started(application):
        yield application


async def test_a_quota_429_pauses_the_instance_and_every_comment_arrives_once(
    quick_app: Any, jira_sim: Any
) -> None:
    async with api_client(quick_app) as api:
        await ready_helpdesk(api)
        first = await linked_ticket(quick_app, api, jira_sim)
        second = await linked_ticket(quick_app, api, jira_sim)
        first_id, second_id = (jira_sim.issue(t.issue_key).id for t in (first, second))
        jira_sim.add_fault(
            "POST",
            f"/issue/{first_id}/comment$",
            status=429,
            headers={"Retry-After": str(PAUSE)},
            rate_limit_reason="jira-quota-tenant-based",
        )
        await add_action(api, first.ticket["ID"], "First")
        await drain(quick_app)  # 429: the job waits for the time Jira gave
        await add_action(api, second.ticket["ID"], "Second")
        await drain(quick_app)  # held: not sent to Jira while the pause lasts
        assert sim_requests(jira_sim, "POST", f"/issue/{second_id}/comment") == []
        (paused,) = [log for log in await sync_logs(quick_app) if log.event == "jira.quota_paused"]
        assert "jira-quota-tenant-based" in paused.message
        assert paused.jira_instance_id == 1

        async def both_pushed() -> list[list[str]]:
            await drain(quick_app)
            return [comment_lines(jira_sim.issue(t.issue_key)) for t in (first, second)]

        pushed = await eventually(both_pushed, lambda lines: all(lines), timeout=10 * PAUSE)
        assert pushed == [["First"], ["Second"]]  # nothing lost, nothing doubled
        refused = sim_requests(jira_sim, "POST", f"/issue/{first_id}/comment")[0]
        (resumed,) = sim_requests(jira_sim, "POST", f"/issue/{second_id}/comment")
        assert (resumed.at - refused.at).total_seconds() >= PAUSE
        assert [log.event for log in await sync_logs(quick_app)].count("jira.quota_paused") == 1
