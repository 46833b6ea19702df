"""`jira.refresh_issue`: a linked issue's current state, fetched from Jira, reaches its tickets."""

from __future__ import annotations

from typing import Any

from app.integration.inbound.refresh import enqueue_refresh
from jirasim import JiraSimulator
from tests.support.inbound import (
    history_of,
    link,
    make_catalog,
    make_instance,
    make_tickets,
    sync_logs,
    ticket_rows,
)
from tests.support.inbound_fixtures import drain


async def test_refresh_after_linking_reflects_the_issue(
    service: Any, session: Any, sim: JiraSimulator
) -> None:
    catalog = await make_catalog(session)
    jira = await make_instance(session)
    issue = sim.create_issue("DEMO", "Printer on fire", issue_type="Task")
    sim.transition_issue(issue.key, "In Progress")
    tickets = await make_tickets(session, catalog, 2)
    await link(session, jira, issue.id, issue.key, tickets, status_name=None, issue_type_name=None)
    await enqueue_refresh(session, jira.id or 0, issue.id)
    await session.commit()
    await drain(service)
    for ticket in await ticket_rows(session, tickets):
        assert ticket.ticket_type_id == catalog.task
        assert ticket.status_id == catalog.statuses[(catalog.task, "New")]  # Task lacks it
        assert ticket.product_id == catalog.demo_product  # by the project key DEMO


async def test_refresh_of_a_deleted_issue_marks_the_links(
    service: Any, session: Any, sim: JiraSimulator
) -> None:
    catalog = await make_catalog(session)
    jira = await make_instance(session)
    tickets = await make_tickets(session, catalog, 1)
    await link(session, jira, "99999", "DEMO-99", tickets)
    await enqueue_refresh(session, jira.id or 0, "99999")
    await session.commit()
    await drain(service)
    (ticket,) = await ticket_rows(session, tickets)
    assert ticket.jira_sync_status == "Error"


async def test_refresh_with_a_wrong_token_is_an_instance_wide_error(
    service: Any, session: Any, sim: JiraSimulator
) -> None:
    from app.core.security import SecretBox
    from tests.conftest import SECRET_KEY

    catalog = await make_catalog(session)
    jira = await make_instance(session)
    jira.api_token_encrypted = SecretBox(SECRET_KEY).encrypt("wrong")
    tickets = await make_tickets(session, catalog, 1)
    await link(session, jira, "10000", "DEMO-1", tickets)
    await enqueue_refresh(session, jira.id or 0, "10000")
    await session.commit()
    await drain(service)
    errors = [log for log in await sync_logs(session) if log.status == "Error"]
    assert [log.ticket_id for log in errors] == [None]
    assert await history_of(session, tickets[0]) == []
