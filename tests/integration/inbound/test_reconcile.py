"""Reconciliation: a change whose webhook was lost is repaired."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from app.core.db import utcnow
from app.integration.inbound.reconcile import reconcile_all
from app.integration.job_kinds import ReconcileAll
from app.jobs.kinds import Job
from app.jobs.models import SyncJob
from jirasim import JiraSimulator
from tests.conftest import API_TOKEN, BOTH_JIRAS
from tests.support.inbound import history_of, sync_logs, ticket_rows
from tests.support.jobs import drain
from tests.support.world import WEBHOOK_SECRET, link, linked_world, make_instance

pytestmark = BOTH_JIRAS  # Cloud has only /search/jql, Server only /search


async def test_reconcile_repairs_a_dropped_webhook(
    http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
) -> None:
    issue = sim.create_issue("DEMO", "Printer on fire")
    world = await linked_world(session, 2, issue_id=issue.id, issue_key=issue.key)
    catalog, tickets, jira_id = world.catalog, world.tickets, world.instance_id
    sim.set_webhook_client(http)
    sim.register_webhook(
        f"http://helpdesk.test/webhooks/jira/{jira_id}", secret=WEBHOOK_SECRET, style=sim.flavor
    )
    sim.drop_next_webhooks(1)
    sim.transition_issue(issue.key, "Done")
    await sim.webhooks_idle()
    await drain(service)
    open_ = catalog.statuses[(catalog.bug, "Open")]
    assert {t.status_id for t in await ticket_rows(session, tickets)} == {open_}

    answer = await http.post(
        f"/api/json/JiraInstances/{jira_id}/Reconcile", auth=("admin", API_TOKEN)
    )
    assert answer.status_code == 202
    assert answer.json()["Reconcile"]["Status"] == "Queued"
    await drain(service)
    done = catalog.statuses[(catalog.bug, "Done")]
    assert {t.status_id for t in await ticket_rows(session, tickets)} == {done}
    assert "Status changed from Open to Done by Jira" in await history_of(session, tickets[0])
    (summary,) = [log for log in await sync_logs(session) if log.event == "jira.reconcile"]
    assert "1 linked issues, 1 changed" in summary.message
    assert "1 brought differences" in summary.message

    # the next run only asks for what changed since (relative JQL), and finds nothing to do
    sim.clear_requests()
    await http.post(f"/api/json/JiraInstances/{jira_id}/Reconcile", auth=("admin", API_TOKEN))
    await drain(service)
    searches = [r for r in sim.requests if "/search" in r.path]
    assert searches
    assert all(r.status == 200 for r in searches[1:])  # the endpoint that answered is kept
    assert "updated >=" in str(searches[-1].body)
    summaries = [log for log in await sync_logs(session) if log.event == "jira.reconcile"]
    assert "0 brought differences" in summaries[-1].message


async def test_reconcile_finds_an_issue_deleted_while_its_webhook_was_lost(
    http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
) -> None:
    """Jira refuses a search naming an issue id that no longer exists; the issues of that
    search are then re-read one by one, so the deleted one is found and the others still
    reconciled."""
    kept = sim.create_issue("DEMO", "Printer on fire")
    gone = sim.create_issue("DEMO", "Duplicate report")
    world = await linked_world(session, 3, linked=False)
    catalog, jira_id = world.catalog, world.instance_id
    kept_tickets, gone_tickets = world.tickets[:1], world.tickets[1:]
    await link(session, world.instance, kept.id, kept.key, kept_tickets)
    await link(session, world.instance, gone.id, gone.key, gone_tickets)
    await session.commit()
    sim.set_webhook_client(http)
    sim.register_webhook(
        f"http://helpdesk.test/webhooks/jira/{jira_id}", secret=WEBHOOK_SECRET, style=sim.flavor
    )
    sim.drop_next_webhooks(2)
    sim.transition_issue(kept.key, "Done")
    sim.delete_issue(gone.key)
    await sim.webhooks_idle()
    await drain(service)

    answer = await http.post(
        f"/api/json/JiraInstances/{jira_id}/Reconcile", auth=("admin", API_TOKEN)
    )
    assert answer.status_code == 202
    await drain(service)
    for ticket in await ticket_rows(session, gone_tickets):
        assert ticket.jira_sync_status == "Error"
        assert await history_of(session, ticket.id or 0) == [
            f"Jira sync error: Jira issue {gone.key} was deleted in Jira; the link is broken"
        ]
    (kept_ticket,) = await ticket_rows(session, kept_tickets)
    assert kept_ticket.jira_sync_status == "Linked"
    assert kept_ticket.status_id == catalog.statuses[(catalog.bug, "Done")]
    (summary,) = [log for log in await sync_logs(session) if log.event == "jira.reconcile"]
    assert summary.status != "Error"
    assert "2 re-read one by one" in summary.message
    assert f"An issue with key '{gone.id}' does not exist for field 'id'." in summary.message


async def test_reconcile_needs_the_api_token(http: httpx.AsyncClient, session: Any) -> None:
    answer = await http.post("/api/xml/JiraInstances/1/Reconcile")
    assert answer.status_code == 401
    answer = await http.post("/api/xml/JiraInstances/999/Reconcile", auth=("a", API_TOKEN))
    assert answer.status_code == 404


async def test_periodic_run_queues_each_active_instance_once(service: Any, session: Any) -> None:
    await make_instance(session)
    await make_instance(session, name="Inactive", sync_active=False)
    await session.commit()
    ctx = service.state.worker_context
    await reconcile_all(ctx, Job(0, 1, utcnow(), ReconcileAll()))
    await reconcile_all(ctx, Job(0, 1, utcnow(), ReconcileAll()))
    queued = list(
        await session.scalars(select(SyncJob).where(col(SyncJob.kind) == "jira.reconcile"))
    )
    await session.commit()
    assert len(queued) == 1
