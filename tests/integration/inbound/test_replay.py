"""Deliveries that arrive while a link is being set up are replayed once the link exists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app.core.db import utcnow
from app.integration.inbound.refresh import enqueue_refresh
from jirasim import JiraSimulator
from tests.support.inbound import actions_of, cloud_comment_created, deliver
from tests.support.jobs import drain
from tests.support.world import link, linked_world


class TestReplayAfterLinking:
    async def _comment_before_link(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> tuple[Any, Any, list[int]]:
        world = await linked_world(session, 1, linked=False)
        issue = sim.create_issue("DEMO", "Created for a ticket")
        said = sim.add_comment(issue.key, "Looking into it", user="jdoe")
        answer = await deliver(
            http, world.instance_id, cloud_comment_created(issue.id, issue.key, said.id)
        )
        assert answer.json()["status"] == "unlinked"
        return world.instance, issue, world.tickets

    async def test_a_comment_made_before_the_link_committed_becomes_an_action(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        requested = utcnow() - timedelta(seconds=1)
        instance, issue, tickets = await self._comment_before_link(http, service, session, sim)
        await link(session, instance, issue.id, issue.key, tickets)
        await enqueue_refresh(session, instance.id, issue.id, linked_since=requested)
        await session.commit()
        await drain(service)
        (action,) = await actions_of(session, tickets[0])
        assert (action.source, action.jira_comment_id) == ("Jira", issue.comments[0].id)

        await enqueue_refresh(session, instance.id, issue.id, linked_since=requested)
        await session.commit()
        await drain(service)
        assert len(await actions_of(session, tickets[0])) == 1

    async def test_without_the_link_time_nothing_is_replayed(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        instance, issue, tickets = await self._comment_before_link(http, service, session, sim)
        await link(session, instance, issue.id, issue.key, tickets)
        await enqueue_refresh(session, instance.id, issue.id)
        await session.commit()
        await drain(service)
        assert await actions_of(session, tickets[0]) == []
