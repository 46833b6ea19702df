"""Applying Jira deliveries to linked tickets: status, type, move, fields, comments, delete,
ordering and fan-out, through the receiver and the worker (Jira is the in-process simulator)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlmodel import col

from app.helpdesk.models import Action, Ticket
from app.integration.models import JiraInstance, JiraIssue, MappingType, WebhookDelivery
from jirasim import JiraSimulator
from tests.support.inbound import (
    actions_of,
    cloud_comment_created,
    deliver,
    history_of,
    issue_updated,
    item,
    server_comment_created,
    server_issue_commented,
    simple_event,
    sync_logs,
    ticket_rows,
    user,
)
from tests.support.jobs import drain
from tests.support.world import (
    ISSUE_ID,
    WEBHOOK_SECRET,
    LinkedWorld,
    add_custom_field,
    add_mapping,
    linked_world,
)


async def send(
    http: httpx.AsyncClient, service: Any, s: LinkedWorld, payload: dict[str, Any]
) -> None:
    response = await deliver(http, s.instance_id, payload)
    assert response.is_success, response.text
    await drain(service)


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


class TestMove:
    def moved(self, project: tuple[str, str]) -> dict[str, Any]:
        return issue_updated(
            ISSUE_ID,
            f"{project[0]}-7",
            [item("project", "Support", project[1]), item("Key", "DEMO-1", f"{project[0]}-7")],
            project=project,
        )

    async def test_link_key_and_product_follow(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        await send(http, service, s, self.moved(("DEMO", "Demo Project")))
        issue = await session.scalar(select(JiraIssue).where(col(JiraIssue.issue_id) == ISSUE_ID))
        await session.commit()
        assert issue.issue_key == "DEMO-7"
        for ticket in await ticket_rows(session, s.tickets):
            assert ticket.product_id == s.catalog.demo_product
            history = await history_of(session, ticket.id)
            assert "Jira issue moved from DEMO-1 to DEMO-7" in history
            assert "Product changed from Support to Demo Project by Jira" in history
        answer = await http.get(
            f"/api/json/Tickets/{s.tickets[0]}", auth=("t", "test-api-token-0123456789")
        )
        assert answer.json()["Ticket"]["JiraKey"] == "DEMO-7"

    async def test_unknown_project_keeps_the_product_and_logs(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await send(http, service, s, self.moved(("OPS", "Operations")))
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.product_id == s.catalog.support_product
        assert any("OPS" in log.message for log in await sync_logs(session))


class TestMappedFields:
    async def test_values_are_converted_and_a_bad_one_is_an_error_for_that_field_only(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        async with session.begin():
            instance = await session.get(JiraInstance, s.instance_id)
            await add_custom_field(session, "Severity", "PickList", ["Low", "High"])
            await add_custom_field(session, "Story Points", "Number")
            await add_custom_field(session, "Due", "Date")
            await add_mapping(session, instance, MappingType.TICKET, "Severity", "Severity")
            await add_mapping(session, instance, MappingType.TICKET, "Points", "Story Points")
            await add_mapping(session, instance, MappingType.TICKET, "Due date", "Due")
            await add_mapping(session, instance, MappingType.TICKET, "summary", "Name")
        payload = issue_updated(
            ISSUE_ID,
            "DEMO-1",
            [
                item("Severity", None, "High", field_id="customfield_10010"),
                item("Points", "3", "5", field_id="customfield_10020"),
                item("Due date", None, "next tuesday", field_id="duedate"),
                item("summary", "Old", "Printer on fire"),
            ],
            extra={
                "customfield_10010": {"value": "High", "id": "10001"},
                "customfield_10020": 5.0,
                "duedate": "next tuesday",
            },
        )
        await send(http, service, s, payload)
        answer = await http.get(
            f"/api/json/Tickets/{s.tickets[1]}", auth=("t", "test-api-token-0123456789")
        )
        ticket = answer.json()["Ticket"]
        assert ticket["Severity"] == "High"
        assert ticket["Story Points"] == 5
        assert ticket["Due"] is None
        assert ticket["Name"] == "Printer on fire"
        errors = [log for log in await sync_logs(session) if log.status == "Error"]
        assert {log.ticket_id for log in errors} == set(s.tickets)
        assert all("Due" in log.message for log in errors)
        history = await history_of(session, s.tickets[0])
        assert "Severity changed from (empty) to High by Jira" in history
        assert any(line.startswith("Jira sync error:") for line in history)


class TestComments:
    async def test_public_comment_once_per_linked_ticket(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        s = await linked_world(session, 3)
        payload = cloud_comment_created(ISSUE_ID, "DEMO-1", "20001", text="Fixed in 2.1")
        await send(http, service, s, payload)
        # the same comment again under another delivery id: still once
        await deliver(http, s.instance_id, payload, identifier="another")
        await drain(service)
        for ticket_id in s.tickets:
            (action,) = await actions_of(session, ticket_id)
            assert (action.description, action.creator_name) == ("Fixed in 2.1", "John Doe")
            assert (action.source, action.jira_comment_id) == ("Jira", "20001")

    async def test_private_comment_adds_nothing(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        for n, visibility in enumerate(
            ({"type": "role", "value": "Developers"}, {"type": "group", "value": "jira-staff"})
        ):
            payload = cloud_comment_created(ISSUE_ID, "DEMO-1", f"3000{n}", visibility=visibility)
            await send(http, service, s, payload)
        assert await actions_of(session, s.tickets[0]) == []

    async def test_echo_of_our_own_comment_by_id(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        session.add(Action(ticket_id=s.tickets[0], description="pushed", jira_comment_id="40001"))
        await session.commit()
        await send(http, service, s, cloud_comment_created(ISSUE_ID, "DEMO-1", "40001"))
        assert len(await actions_of(session, s.tickets[0])) == 1
        assert await actions_of(session, s.tickets[1]) == []

    async def test_echo_by_the_integration_users_name_on_server(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1, user_name="svc-helpdesk")
        author = user("svc-helpdesk", cloud=False, display="Helpdesk Sync")
        await send(http, service, s, server_comment_created(ISSUE_ID, "40002", author=author))
        assert await actions_of(session, s.tickets[0]) == []

    async def test_echo_by_the_integration_users_account_id_on_cloud(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        s = await linked_world(session, 1)
        me = sim.state.user("integration")
        author = {"accountId": me.account_id, "displayName": "Integration"}
        await send(
            http, service, s, cloud_comment_created(ISSUE_ID, "DEMO-1", "40003", author=author)
        )
        assert await actions_of(session, s.tickets[0]) == []

    async def test_server_comment_created_without_issue(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        await send(http, service, s, server_comment_created(ISSUE_ID, "50001", text="from server"))
        for ticket_id in s.tickets:
            (action,) = await actions_of(session, ticket_id)
            assert action.description == "from server"

    async def test_server_issue_commented(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await send(http, service, s, server_issue_commented(ISSUE_ID, "DEMO-1", "50002"))
        (action,) = await actions_of(session, s.tickets[0])
        assert action.jira_comment_id == "50002"

    async def test_old_server_shape_asks_jira_about_the_comment(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: JiraSimulator
    ) -> None:
        issue = sim.create_issue("DEMO", "Old server", user="jdoe")
        public = sim.add_comment(issue.key, "visible", user="jdoe")
        private = sim.add_comment(
            issue.key, "hidden", user="jdoe", visibility={"type": "role", "value": "Developers"}
        )
        s = await linked_world(session, 1, issue_id=issue.id, issue_key=issue.key)
        for comment_id in (public.id, private.id):
            payload = server_issue_commented(issue.id, issue.key, comment_id, event_type=None)
            assert (await deliver(http, s.instance_id, payload)).is_success
        await drain(service)
        (action,) = await actions_of(session, s.tickets[0])
        assert action.jira_comment_id == public.id

    async def test_edits_are_logged_not_propagated(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await send(http, service, s, simple_event("comment_updated", ISSUE_ID, "DEMO-1"))
        edited = server_issue_commented(ISSUE_ID, "DEMO-1", "50003", event_type=None, edited=True)
        await send(http, service, s, edited)
        assert await actions_of(session, s.tickets[0]) == []
        assert any(log.event == "jira.comment_updated" for log in await sync_logs(session))


class TestDelete:
    async def test_links_go_to_error_with_history(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        await send(http, service, s, simple_event("jira:issue_deleted", ISSUE_ID, "DEMO-1"))
        for ticket in await ticket_rows(session, s.tickets):
            assert ticket.jira_sync_status == "Error"
            assert any("was deleted" in line for line in await history_of(session, ticket.id))
        errors = [log for log in await sync_logs(session) if log.status == "Error"]
        assert {log.ticket_id for log in errors} == set(s.tickets)
        # later deliveries about it are stored, not worked on
        again = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")], changelog_id=9)
        assert (await deliver(http, s.instance_id, again)).json()["status"] == "unlinked"


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
        self, http: httpx.AsyncClient, service: Any, session: Any, db: Any
    ) -> None:
        s = await linked_world(session, 1000, update_ticket_status=True)
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        payload = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")])
        assert (await deliver(http, s.instance_id, payload)).is_success
        comment = cloud_comment_created(ISSUE_ID, "DEMO-1", "60001", text="to everyone")
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
            select(func.count()).select_from(Action).where(col(Action.jira_comment_id) == "60001")
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
