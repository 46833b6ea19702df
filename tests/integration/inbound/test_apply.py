"""Applying Jira deliveries to linked tickets: ordering and fan-out, through the receiver and the
worker (Jira is the in-process simulator)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, func, select, text, update
from sqlmodel import col

from app.helpdesk.models import Action, Ticket, TicketStatus
from app.inbox.models import WebhookDelivery
from app.integration.linked_issues import issue_row
from app.integration.models import JiraIssue
from app.jobs.models import JobStatus, SyncJob
from jirasim import JiraSimulator
from tests.support.inbound import (
    cloud_comment_created,
    deliver,
    issue_updated,
    item,
    send,
    ticket_rows,
)
from tests.support.jobs import drain, worker_writes_no_end
from tests.support.statements import statements_sent
from tests.support.world import ISSUE_ID, WEBHOOK_SECRET, linked_world


class TestParsedOnce:
    async def test_the_job_applies_what_the_receiver_parsed(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        """The stored body is for people and replays: the apply job does not read it again."""
        s = await linked_world(session, 1)
        response = await deliver(
            http,
            s.instance_id,
            issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")]),
        )
        assert response.status_code == 200
        await session.execute(update(WebhookDelivery).values(body="not JSON at all"))
        await session.commit()

        await drain(service)
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]
        outcomes = list(await session.scalars(select(col(WebhookDelivery.outcome))))
        await session.commit()
        assert outcomes == ["applied"]

    async def test_a_job_queued_without_the_parse_reads_the_stored_body(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        """Jobs queued by a version whose payloads did not carry it still apply after an upgrade."""
        s = await linked_world(session, 1)
        await deliver(
            http,
            s.instance_id,
            issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")]),
        )
        job = await session.scalar(select(SyncJob))
        job.payload = {key: value for key, value in job.payload.items() if key != "parsed"}
        await session.commit()

        await drain(service)
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]


class TestFirstRead:
    async def test_the_delivery_its_instance_and_its_issue_locked_are_one_statement(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        change = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")])
        assert (await deliver(http, s.instance_id, change)).is_success

        with statements_sent(service.state.engine) as sent:
            assert await drain(service) == 1

        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]
        issue_reads = [sql for sql in sent if sql.startswith("SELECT") and "jira_issues" in sql]
        assert len(issue_reads) == 1
        assert "webhook_deliveries" in issue_reads[0]
        ticket_reads = [sql for sql in sent if sql.startswith("SELECT") and "FROM tickets" in sql]
        if service.state.engine.dialect.name == "postgresql":
            # with its linked tickets, when no other transaction holds the issue's row
            assert issue_reads[0].endswith("FOR UPDATE OF jira_issues SKIP LOCKED")
            assert ticket_reads == issue_reads
        else:
            assert len(ticket_reads) == 1

    async def test_a_delivery_whose_issue_has_no_row_is_read_apart_and_not_applied(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        """Stored while linked, its issue's row gone before the job ran: the job still finds
        the delivery (and says why nothing was applied)."""
        s = await linked_world(session, 1)
        change = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")])
        assert (await deliver(http, s.instance_id, change)).is_success
        await session.execute(
            update(Ticket).where(col(Ticket.id).in_(s.tickets)).values(jira_issue_ref=None)
        )
        await session.execute(delete(JiraIssue))
        await session.commit()

        assert await drain(service) == 1

        outcomes = list(await session.scalars(select(col(WebhookDelivery.outcome))))
        await session.commit()
        assert outcomes == ["unlinked"]

    @pytest.mark.postgres  # SQLite has one writer at a time: no other transaction holds a row
    async def test_an_issue_held_elsewhere_is_waited_for_and_its_tickets_read_after(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        """A ticket linked again by the transaction that held the issue's row gets the change: a
        read in the statement that waited for the row would have seen no ticket linked."""
        s = await linked_world(session, 1)
        change = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")])
        assert (await deliver(http, s.instance_id, change)).is_success
        unlinked = update(Ticket).where(col(Ticket.id).in_(s.tickets))
        await session.execute(unlinked.values(jira_issue_ref=None))
        await session.commit()

        held = await issue_row(session, s.instance_id, ISSUE_ID, lock=True)
        assert held is not None
        await session.execute(unlinked.values(jira_issue_ref=held.id))
        applying = asyncio.create_task(drain(service))
        await lock_waited_for(session)
        await session.commit()
        assert await applying == 1

        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]


async def lock_waited_for(session: Any, timeout: float = 10.0) -> None:
    """Until another transaction waits for a lock this one holds (PostgreSQL)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database() AND pid <> pg_backend_pid()"
    )
    async with asyncio.timeout(timeout):
        # The activity a transaction reads is kept until it ends, unless cleared.
        while not await session.scalar(waiting):
            await session.execute(text("SELECT pg_stat_clear_snapshot()"))
            await asyncio.sleep(0.01)


async def apply_status_change(
    http: httpx.AsyncClient, service: Any, instance_id: int, old: str, new: str, minute: int
) -> None:
    """A status change made at 10:`minute` (a later minute: a later change), applied."""
    change = issue_updated(
        ISSUE_ID,
        "DEMO-1",
        [item("status", old, new)],
        changelog_id=100 + minute,
        updated=f"2026-11-23T10:{minute:02d}:00.000+0000",
    )
    assert (await deliver(http, instance_id, change)).is_success
    assert await drain(service) == 1


class TestConfigurationKept:
    """The statuses and the subscriptions a delivery is applied with are kept from the jobs
    before it while they are unchanged (`core/config_cache.py`)."""

    async def test_a_delivery_after_another_reads_no_statuses_or_subscriptions(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await apply_status_change(http, service, s.instance_id, "To Do", "In Progress", 1)

        with statements_sent(service.state.engine) as sent:
            await apply_status_change(http, service, s.instance_id, "In Progress", "Done", 2)

        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]
        reads = [sql for sql in sent if sql.startswith("SELECT")]
        assert not [sql for sql in reads if sql.startswith("SELECT ticket_statuses.")]
        assert not [sql for sql in reads if sql.startswith("SELECT event_subscriptions.")]

    async def test_a_status_added_since_the_last_delivery_is_the_next_one_s_target(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await apply_status_change(http, service, s.instance_id, "To Do", "In Progress", 1)
        session.add(TicketStatus(name="Verified", ticket_type_id=s.catalog.bug))
        await session.commit()

        await apply_status_change(http, service, s.instance_id, "In Progress", "Verified", 2)

        (ticket,) = await ticket_rows(session, s.tickets)
        verified = await session.scalar(
            select(col(TicketStatus.id)).where(col(TicketStatus.name) == "Verified")
        )
        await session.commit()
        assert ticket.status_id == verified


class TestFinished:
    async def test_the_delivery_marked_and_its_job_done_are_one_statement_on_postgresql(
        self, http: httpx.AsyncClient, service: Any, session: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Written by the job's transaction, not by the worker after it (elsewhere two
        statements of that transaction)."""
        s = await linked_world(session, 1)
        worker_writes_no_end(monkeypatch)

        with statements_sent(service.state.engine) as sent:
            await apply_status_change(http, service, s.instance_id, "To Do", "Done", 1)

        (delivery,) = (await session.scalars(select(WebhookDelivery))).all()
        (job,) = (await session.scalars(select(SyncJob))).all()
        await session.commit()
        assert (delivery.outcome, delivery.processed_at is not None) == ("applied", True)
        assert job.status == JobStatus.DONE
        (marked,) = [sql for sql in sent if "UPDATE webhook_deliveries" in sql]
        on_postgres = service.state.engine.dialect.name == "postgresql"
        assert ("UPDATE sync_jobs" in marked) == on_postgres

    async def test_the_issue_s_row_is_written_with_them_on_postgresql(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        """What the tickets now reflect (the change's time and changelog id, the status): with
        the delivery marked and the job done, not flushed apart (elsewhere a statement of its
        own in the job's transaction)."""
        s = await linked_world(session, 1)

        with statements_sent(service.state.engine) as sent:
            await apply_status_change(http, service, s.instance_id, "To Do", "Done", 1)

        issue = await session.scalar(select(JiraIssue))
        await session.commit()
        assert issue is not None
        assert (issue.status_name, issue.last_changelog_id) == ("Done", 101)
        (written,) = [sql for sql in sent if "UPDATE jira_issues" in sql]
        on_postgres = service.state.engine.dialect.name == "postgresql"
        assert ("UPDATE webhook_deliveries" in written) == on_postgres


class TestOrdering:
    async def test_an_older_delivery_does_not_overwrite_a_newer_one(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        newer = issue_updated(
            ISSUE_ID,
            "DEMO-1",
            [item("status", "In Progress", "Done")],
            changelog_id=10205,
            updated="2026-11-23T10:05:00.000+0000",
        )
        older = issue_updated(
            ISSUE_ID,
            "DEMO-1",
            [item("status", "To Do", "In Progress")],
            changelog_id=10200,
            updated="2026-11-23T10:01:00.000+0000",
        )
        await send(http, service, s, newer)
        await send(http, service, s, older)
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]
        outcomes = list(await session.scalars(select(col(WebhookDelivery.outcome))))
        await session.commit()
        assert sorted(outcomes) == ["applied", "stale"]

    async def test_same_time_orders_by_changelog_id(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        at = "2026-11-23T10:05:00.000+0000"
        second = issue_updated(
            ISSUE_ID, "DEMO-1", [item("status", "x", "Done")], changelog_id=11, updated=at
        )
        first = issue_updated(
            ISSUE_ID, "DEMO-1", [item("status", "x", "Open")], changelog_id=10, updated=at
        )
        await send(http, service, s, second)
        await send(http, service, s, first)
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]


class TestFanOut:
    async def test_one_delivery_to_1000_tickets_is_a_handful_of_statements(
        self, http: httpx.AsyncClient, service: Any, session: Any, db: Any, sim: JiraSimulator
    ) -> None:
        issue = sim.create_issue("DEMO", "Everyone's problem", user="jdoe")
        said = sim.add_comment(issue.key, "to everyone", user="jdoe")
        s = await linked_world(
            session, 1000, update_ticket_status=True, issue_id=issue.id, issue_key=issue.key
        )
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        payload = issue_updated(issue.id, issue.key, [item("status", "To Do", "Done")])
        assert (await deliver(http, s.instance_id, payload)).is_success
        comment = cloud_comment_created(issue.id, issue.key, said.id, text="to everyone")
        assert (await deliver(http, s.instance_id, comment)).is_success
        engine = service.state.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            await drain(service)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        done = s.catalog.statuses[(s.catalog.bug, "Done")]
        statuses = set(
            await session.scalars(
                select(col(Ticket.status_id)).where(col(Ticket.id).in_(s.tickets))
            )
        )
        comments = await session.scalar(
            select(func.count()).select_from(Action).where(col(Action.jira_comment_id) == said.id)
        )
        await session.commit()
        assert statuses == {done}
        assert comments == 1000
        # two jobs with their claims and bookkeeping: ~40 statements, not thousands
        assert len(statements) < 50, statements


@pytest.mark.parametrize("cloud", [True, False])
async def test_status_change_from_the_simulator_reaches_every_linked_ticket(
    cloud: bool, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
) -> None:
    """End to end in process: Jira's own webhook (signed or `?secret=`) → receiver → worker."""
    issue = sim.create_issue("DEMO", "Printer on fire")
    s = await linked_world(session, 3, issue_id=issue.id, issue_key=issue.key)
    sim.set_webhook_client(http)
    sim.register_webhook(
        f"http://helpdesk.test/webhooks/jira/{s.instance_id}",
        secret=WEBHOOK_SECRET,
        style="cloud" if cloud else "server",
        secret_in="header" if cloud else "query",
    )
    sim.transition_issue(issue.key, "In Progress")
    await sim.webhooks_idle()
    await drain(service)
    in_progress = s.catalog.statuses[(s.catalog.bug, "In Progress")]
    assert {t.status_id for t in await ticket_rows(session, s.tickets)} == {in_progress}
