"""A Jira status or issue type change reaching every linked ticket (through the receiver and
the worker)."""

from __future__ import annotations

from typing import Any

import httpx

from app.helpdesk.models import TicketStatus
from app.integration.inbound.apply import apply_issue_changes
from app.integration.inbound.linked_tickets import LinkedTickets
from app.integration.linked_issues import issue_row
from app.integration.models import JiraInstance, MappingType
from app.jira.deliveries import IssueChanges
from tests.support.inbound import (
    actions_of,
    history_of,
    issue_updated,
    item,
    send,
    sync_logs,
    ticket_rows,
)
from tests.support.statements import statements_sent
from tests.support.world import ISSUE_ID, add_mapping, linked_world


class TestStatus:
    async def test_each_linked_ticket_gets_its_types_status(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2, task_tickets=1)
        await send(
            http,
            service,
            s,
            issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "in progress")]),
        )
        bug1, bug2, task = await ticket_rows(session, s.tickets)
        in_progress = s.catalog.statuses[(s.catalog.bug, "In Progress")]
        assert bug1.status_id == bug2.status_id == in_progress
        # Task has no "In Progress": its default status
        assert task.status_id == s.catalog.statuses[(s.catalog.task, "New")]
        assert "Status changed from Open to In Progress by Jira" in await history_of(
            session, bug1.id
        )
        logs = [log for log in await sync_logs(session) if log.event == "jira.issue_updated"]
        assert {log.ticket_id for log in logs} == set(s.tickets)

    async def test_the_change_and_its_history_are_one_statement_on_postgresql(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        """Each linked ticket of the type changed, and its History line naming the status it
        left: two statements on SQLite, one on PostgreSQL."""
        s = await linked_world(session, 2)
        change = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "in progress")])
        with statements_sent(service.state.engine) as sent:
            await send(http, service, s, change)
        in_progress = s.catalog.statuses[(s.catalog.bug, "In Progress")]
        for ticket in await ticket_rows(session, s.tickets):
            assert ticket.status_id == in_progress
            history = await history_of(session, ticket.id)
            assert history.count("Status changed from Open to In Progress by Jira") == 1
        writes = [
            sql
            for sql in sent
            if "INSERT INTO ticket_history" in sql or sql.startswith("UPDATE tickets")
        ]
        on_postgres = service.state.engine.dialect.name == "postgresql"
        assert len(writes) == (1 if on_postgres else 2)

    async def test_without_update_ticket_status_an_action_is_added(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2, update_ticket_status=False)
        await send(
            http, service, s, issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")])
        )
        for ticket in await ticket_rows(session, s.tickets):
            assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Open")]
            (action,) = await actions_of(session, ticket.id)
            assert action.description == "Jira issue DEMO-1 status changed from To Do to Done"
            assert action.source == "Jira"

    async def test_server_shape_without_field_ids(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        payload = issue_updated(
            ISSUE_ID,
            "DEMO-1",
            [item("status", "In Progress", "Done", cloud=False)],
            cloud=False,
            event_type="issue_resolved",
        )
        await send(http, service, s, payload)
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]

    async def test_every_linked_ticket_is_modified_when_only_some_change_status(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        done = s.catalog.statuses[(s.catalog.bug, "Done")]
        first, _ = await ticket_rows(session, s.tickets)
        first.status_id = done
        await session.commit()
        before = [t.date_modified for t in await ticket_rows(session, s.tickets)]

        await send(
            http, service, s, issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")])
        )

        tickets = await ticket_rows(session, s.tickets)
        assert [t.status_id for t in tickets] == [done, done]
        assert len({t.date_modified for t in tickets}) == 1  # one moment, the change's
        assert all(t.date_modified > earlier for t, earlier in zip(tickets, before, strict=True))


class TestIssueType:
    async def test_mapping_then_same_name(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        async with session.begin():
            instance = await session.get(JiraInstance, s.instance_id)
            await add_mapping(session, instance, MappingType.TICKET_TYPE, "Story", "Task")
        await send(
            http, service, s, issue_updated(ISSUE_ID, "DEMO-1", [item("issuetype", "Bug", "Story")])
        )
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.ticket_type_id == s.catalog.task
        # the status follows: "Open" does not exist for Task, so its default
        assert ticket.status_id == s.catalog.statuses[(s.catalog.task, "New")]
        assert "Ticket type changed from Bug to Task by Jira" in await history_of(
            session, ticket.id
        )
        await send(
            http,
            service,
            s,
            issue_updated(
                ISSUE_ID, "DEMO-1", [item("issuetype", "Story", "bug")], changelog_id=10101
            ),
        )
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.ticket_type_id == s.catalog.bug

    async def test_a_status_changed_with_the_type_is_the_new_types(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        changes = [item("issuetype", "Bug", "Task"), item("status", "To Do", "Done")]
        await send(http, service, s, issue_updated(ISSUE_ID, "DEMO-1", changes))
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.ticket_type_id == s.catalog.task
        assert ticket.status_id == s.catalog.statuses[(s.catalog.task, "Done")]

    async def test_unknown_type_leaves_the_ticket_and_logs(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await send(
            http, service, s, issue_updated(ISSUE_ID, "DEMO-1", [item("issuetype", "Task", "Epic")])
        )
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.ticket_type_id == s.catalog.bug
        assert any(
            "Epic" in log.message and log.status == "Error" for log in await sync_logs(session)
        )


async def test_the_statuses_are_read_anew_in_each_transaction(session: Any) -> None:
    """Read once per transaction, not per session: a status added since a session's last
    transaction is there in its next."""
    s = await linked_world(session, 1)

    async def change_status(name: str) -> None:
        instance = await session.get(JiraInstance, s.instance_id)
        issue = await issue_row(session, s.instance_id, ISSUE_ID)
        assert instance is not None
        assert issue is not None
        await apply_issue_changes(
            LinkedTickets(session, instance, issue), IssueChanges(status_to=name)
        )
        await session.commit()

    await change_status("In Progress")
    session.add(TicketStatus(name="Waiting", ticket_type_id=s.catalog.bug))
    await session.commit()
    await change_status("Waiting")

    (ticket,) = await ticket_rows(session, s.tickets)
    status = await session.get(TicketStatus, ticket.status_id)
    assert status is not None
    assert status.name == "Waiting"
