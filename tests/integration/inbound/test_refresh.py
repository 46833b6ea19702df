"""`jira.refresh_issue`: a linked issue's current state, fetched from Jira, reaches its tickets."""

from __future__ import annotations

from typing import Any

from app.integration.inbound.refresh import enqueue_refresh
from jirasim import JiraSimulator
from tests.support.inbound import history_of, sync_logs, ticket_rows
from tests.support.jobs import drain
from tests.support.world import link, linked_world


async def test_refresh_after_linking_reflects_the_issue(
    service: Any, session: Any, sim: JiraSimulator
) -> None:
    issue = sim.create_issue("DEMO", "Printer on fire", issue_type="Task")
    sim.transition_issue(issue.key, "In Progress")
    world = await linked_world(session, 2, linked=False)
    catalog, tickets = world.catalog, world.tickets
    await link(
        session,
        world.instance,
        issue.id,
        issue.key,
        tickets,
        status_name=None,
        issue_type_name=None,
    )
    await enqueue_refresh(session, world.instance_id, issue.id)
    await session.commit()
    await drain(service)
    for ticket in await ticket_rows(session, tickets):
        assert ticket.ticket_type_id == catalog.task
        assert ticket.status_id == catalog.statuses[(catalog.task, "New")]  # Task lacks it
        assert ticket.product_id == catalog.demo_product  # by the project key DEMO


async def test_refresh_of_a_deleted_issue_marks_the_links(
    service: Any, session: Any, sim: JiraSimulator
) -> None:
    world = await linked_world(session, 1, issue_id="99999", issue_key="DEMO-99")
    await enqueue_refresh(session, world.instance_id, "99999")
    await session.commit()
    await drain(service)
    (ticket,) = await ticket_rows(session, world.tickets)
    assert ticket.jira_sync_status == "Error"


async def test_refresh_with_a_wrong_token_is_an_instance_wide_error(
    service: Any, session: Any, sim: JiraSimulator
) -> None:
    world = await linked_world(session, 1, issue_id="10000", api_token="wrong")
    await enqueue_refresh(session, world.instance_id, "10000")
    await session.commit()
    await drain(service)
    errors = [log for log in await sync_logs(session) if log.status == "Error"]
    assert [log.ticket_id for log in errors] == [None]
    assert await history_of(session, world.tickets[0]) == []
