"""A create whose answer was lost: the issue an earlier attempt made is found, not made again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlmodel import col

from app.core.db import utcnow
from app.jobs.models import SyncJob
from tests.conftest import BOTH_JIRAS
from tests.support.helpdesk import create_ticket, get_ticket
from tests.support.jobs import drain
from tests.support.outbound import sim_issues, sim_requests
from tests.support.world import Helpdesk

pytestmark = BOTH_JIRAS


class TestLostCreate:
    async def test_a_create_whose_answer_was_lost_is_found_not_repeated(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        jira_sim.add_fault("POST", "/rest/api/2/issue$", status=502, after_write=True, times=1)
        ticket = await create_ticket(
            sim_client, Name="Crash: login (again)!", JiraKey="NewJiraIssue"
        )
        await drain(sim_app)
        answer = await get_ticket(sim_client, ticket["ID"])
        assert answer["JiraSyncStatus"] == "Linked"
        (issue,) = sim_issues(jira_sim)
        assert answer["JiraKey"] == issue.key
        searches = sim_requests(jira_sim, "POST", "/rest/api/2/search/jql") + sim_requests(
            jira_sim, "POST", "/rest/api/2/search"
        )
        assert searches
        assert all(r.status == 200 for r in searches if jira_sim.flavor == "cloud")

    async def test_a_lost_create_is_looked_for_only_once_jiras_index_has_caught_up(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
    ) -> None:
        ctx = sim_app.state.worker_context
        ctx.settings = ctx.settings.model_copy(update={"jira_search_settle_seconds": 30.0})
        jira_sim.state.search_lag = timedelta(hours=1)  # a new issue is not searchable yet
        jira_sim.add_fault("POST", "/rest/api/2/issue$", status=502, after_write=True, times=1)
        ticket = await create_ticket(sim_client, Name="Lost answer", JiraKey="NewJiraIssue")
        await drain(sim_app)
        # A retry now would search, miss the unindexed issue and create a second one: it waits.
        assert len(sim_issues(jira_sim)) == 1
        async with sim_app.state.session_factory() as session:
            job = await session.scalar(
                select(SyncJob).where(col(SyncJob.kind) == "jira.link_ticket")
            )
        assert job.status == "queued"
        assert job.run_after - utcnow() > timedelta(seconds=25)
        assert "may have been created" in (job.last_error or "")
        jira_sim.state.search_lag = timedelta(0)  # the index has caught up
        async with sim_app.state.session_factory() as session, session.begin():
            await session.execute(update(SyncJob).values(run_after=utcnow()))
        await drain(sim_app)
        answer = await get_ticket(sim_client, ticket["ID"])
        (issue,) = sim_issues(jira_sim)
        assert (answer["JiraSyncStatus"], answer["JiraKey"]) == ("Linked", issue.key)
