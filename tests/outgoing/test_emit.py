"""Outgoing events made from changes, in the transaction of the change: what Jira changed on
linked tickets, what the ticket API changed, new actions; nothing echoed to the helpdesk."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlmodel import col

from app.helpdesk.models import TicketCustomValue, TicketType
from app.integration.models import JiraInstance, MappingType
from app.outgoing.models import EventDelivery
from tests.support.helpdesk import API, add_action, create_ticket, ok, signed_event
from tests.support.inbound import (
    cloud_comment_created,
    issue_updated,
    item,
    send,
    simple_event,
)
from tests.support.jobs import drain
from tests.support.outgoing_fixtures import subscribe
from tests.support.receiver import Receiver
from tests.support.statements import statements_sent
from tests.support.world import (
    ISSUE_ID,
    add_custom_field,
    add_mapping,
    linked_world,
    seed_helpdesk,
)


def status_change(old: str, new: str, minute: int) -> dict[str, Any]:
    """Jira's status change made at 10:`minute` (a later minute: a later change)."""
    return issue_updated(
        ISSUE_ID,
        "DEMO-1",
        [item("status", old, new)],
        changelog_id=100 + minute,
        updated=f"2026-11-23T10:{minute:02d}:00.000+0000",
    )


def events(receiver: Receiver) -> list[dict[str, Any]]:
    """The events the receiver accepted (signature verified), in arrival order."""
    return [attempt.event for attempt in receiver.delivered()]


def of_type(receiver: Receiver, event_type: str) -> list[dict[str, Any]]:
    return [event for event in events(receiver) if event["type"] == event_type]


async def deliveries(app: Any) -> int:
    async with app.state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(EventDelivery)) or 0)


class TestJiraChanges:
    async def test_a_status_change_is_one_ticket_updated_per_linked_ticket(
        self, events_client: httpx.AsyncClient, events_app: Any, session: Any, receiver: Receiver
    ) -> None:
        s = await linked_world(session, 2)
        await subscribe(events_client, receiver)
        change = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "in progress")])
        await send(events_client, events_app, s, change)
        updated = of_type(receiver, "ticket.updated")
        assert sorted(e["data"]["TicketID"] for e in updated) == s.tickets
        for event in updated:
            assert event["data"]["origin"] == "jira"
            assert event["data"]["changes"] == [
                {"Field": "Status", "From": "Open", "To": "In Progress"}
            ]
            assert event["data"]["Ticket"]["Status"] == "In Progress"
            assert event["data"]["Ticket"]["JiraKey"] == "DEMO-1"
            assert event["data"]["ExternalID"] is None
        assert len(events(receiver)) == 2  # nothing else: the link did not change

    async def test_a_status_change_reads_the_statuses_and_writes_the_issue_once(
        self, events_client: httpx.AsyncClient, events_app: Any, session: Any, receiver: Receiver
    ) -> None:
        """The statuses and custom fields read for the change are those the ticket's answers
        show, before and after it; the issue's new status and version are one write, though the
        answer after the change was rendered in between."""
        s = await linked_world(session, 1)
        await subscribe(events_client, receiver)
        change = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "in progress")])
        with statements_sent(events_app.state.engine) as sent:
            await send(events_client, events_app, s, change)
        (updated,) = of_type(receiver, "ticket.updated")
        assert updated["data"]["changes"] == [
            {"Field": "Status", "From": "Open", "To": "In Progress"}
        ]
        assert updated["data"]["Ticket"]["Status"] == "In Progress"
        assert len([sql for sql in sent if sql.startswith("SELECT ticket_statuses.")]) == 1
        assert len([sql for sql in sent if "FROM custom_fields" in sql]) == 1
        assert len([sql for sql in sent if sql.startswith("UPDATE jira_issues")]) == 1

    async def test_a_change_after_another_reads_no_configuration(
        self, events_client: httpx.AsyncClient, events_app: Any, session: Any, receiver: Receiver
    ) -> None:
        """The types, statuses and custom fields the answers show, before and after the change,
        are kept from the change before while they are unchanged (`core/config_cache.py`)."""
        s = await linked_world(session, 1)
        async with session.begin():
            await add_custom_field(session, "Severity", "Text")
        await subscribe(events_client, receiver)
        await send(events_client, events_app, s, status_change("To Do", "In Progress", 1))

        with statements_sent(events_app.state.engine) as sent:
            await send(events_client, events_app, s, status_change("In Progress", "Done", 2))

        (_, second) = of_type(receiver, "ticket.updated")
        assert second["data"]["Ticket"]["Status"] == "Done"
        assert "Severity" in second["data"]["Ticket"]
        configuration = ("FROM ticket_types", "FROM ticket_statuses", "FROM custom_fields")
        reads = [sql for sql in sent if sql.startswith("SELECT")]
        assert not [sql for sql in reads if any(table in sql for table in configuration)]

    async def test_a_type_renamed_and_a_field_added_meanwhile_show_in_the_next_change(
        self, events_client: httpx.AsyncClient, events_app: Any, session: Any, receiver: Receiver
    ) -> None:
        s = await linked_world(session, 1)
        await subscribe(events_client, receiver)
        await send(events_client, events_app, s, status_change("To Do", "In Progress", 1))
        async with session.begin():
            await session.execute(
                update(TicketType).where(col(TicketType.id) == s.catalog.bug).values(name="Defect")
            )
            region = await add_custom_field(session, "Region", "Text")
            session.add(
                TicketCustomValue(ticket_id=s.tickets[0], custom_field_id=region, value="EU")
            )

        await send(events_client, events_app, s, status_change("In Progress", "Done", 2))

        (first, second) = of_type(receiver, "ticket.updated")
        assert first["data"]["Ticket"]["TicketTypeName"] == "Bug"
        assert "Region" not in first["data"]["Ticket"]
        assert second["data"]["Ticket"]["TicketTypeName"] == "Defect"
        assert second["data"]["Ticket"]["Region"] == "EU"

    async def test_a_type_and_a_mapped_field_change_are_one_ticket_updated(
        self, events_client: httpx.AsyncClient, events_app: Any, session: Any, receiver: Receiver
    ) -> None:
        s = await linked_world(session, 1)
        async with session.begin():
            instance = await session.get(JiraInstance, s.instance_id)
            await add_custom_field(session, "Severity", "PickList", ["Low", "High"])
            await add_mapping(session, instance, MappingType.TICKET, "Severity", "Severity")
        await subscribe(events_client, receiver)
        change = issue_updated(
            ISSUE_ID,
            "DEMO-1",
            [
                item("issuetype", "Bug", "Task"),
                item("Severity", None, "High", field_id="customfield_10010"),
            ],
            extra={"customfield_10010": {"value": "High", "id": "10001"}},
        )
        await send(events_client, events_app, s, change)
        (event,) = events(receiver)
        fields = {c["Field"]: (c["From"], c["To"]) for c in event["data"]["changes"]}
        assert fields["TicketTypeName"] == ("Bug", "Task")
        assert fields["Severity"] == (None, "High")

    async def test_a_jira_comment_is_one_action_created_per_linked_ticket(
        self,
        events_client: httpx.AsyncClient,
        events_app: Any,
        session: Any,
        receiver: Receiver,
        jira_sim: Any,
    ) -> None:
        issue = jira_sim.create_issue("DEMO", "Printer on fire", user="jdoe")
        said = jira_sim.add_comment(issue.key, "Fixed in 2.1", user="jdoe")
        s = await linked_world(session, 2, issue_id=issue.id, issue_key=issue.key)
        await subscribe(events_client, receiver)
        comment = cloud_comment_created(issue.id, issue.key, said.id, text="Fixed in 2.1")
        await send(events_client, events_app, s, comment)
        created = of_type(receiver, "action.created")
        assert sorted(e["data"]["TicketID"] for e in created) == s.tickets
        for event in created:
            action = event["data"]["Action"]
            assert (action["Description"], action["Source"]) == ("Fixed in 2.1", "Jira")
            assert action["JiraCommentID"] == said.id
            assert event["data"]["origin"] == "jira"

    async def test_a_moved_issue_changes_the_link(
        self, events_client: httpx.AsyncClient, events_app: Any, session: Any, receiver: Receiver
    ) -> None:
        s = await linked_world(session, 1)
        await subscribe(events_client, receiver)
        moved = issue_updated(
            ISSUE_ID,
            "SUP-7",
            [item("project", "Demo", "Support"), item("Key", "DEMO-1", "SUP-7")],
            project=("SUP", "Support"),
        )
        await send(events_client, events_app, s, moved)
        (link,) = of_type(receiver, "ticket.jira_link_changed")
        fields = {c["Field"]: (c["From"], c["To"]) for c in link["data"]["changes"]}
        assert fields["JiraKey"] == ("DEMO-1", "SUP-7")
        assert fields["JiraLinkURL"][1].endswith("/browse/SUP-7")
        (updated,) = of_type(receiver, "ticket.updated")
        assert {"Field": "JiraKey", "From": "DEMO-1", "To": "SUP-7"} in updated["data"]["changes"]

    async def test_a_deleted_issue_breaks_the_link_with_the_reason(
        self, events_client: httpx.AsyncClient, events_app: Any, session: Any, receiver: Receiver
    ) -> None:
        s = await linked_world(session, 1)
        await subscribe(events_client, receiver)
        await send(
            events_client, events_app, s, simple_event("jira:issue_deleted", ISSUE_ID, "DEMO-1")
        )
        (link,) = of_type(receiver, "ticket.jira_link_changed")
        assert {"Field": "JiraSyncStatus", "From": "Linked", "To": "Error"} in link["data"][
            "changes"
        ]
        assert link["data"]["Reason"] == "Jira issue DEMO-1 was deleted in Jira; the link is broken"


class TestApiChanges:
    async def test_a_ticket_change_names_each_field_from_and_to(
        self, events_client: httpx.AsyncClient, events_app: Any, session: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        await add_custom_field(session, "Severity", "Text")
        await session.commit()
        ticket = await create_ticket(events_client)
        await subscribe(events_client, receiver)
        await ok(
            await events_client.put(
                f"{API}/Tickets/{ticket['ID']}",
                json={"Name": "Printer fixed", "TicketTypeName": "Bug", "Severity": "High"},
            )
        )
        await drain(events_app)
        (event,) = events(receiver)
        assert event["type"] == "ticket.updated"
        assert event["data"]["origin"] == "api"
        assert event["data"]["TicketNumber"] == ticket["TicketNumber"]
        assert event["data"]["changes"] == [
            {"Field": "Name", "From": "Printer on fire", "To": "Printer fixed"},
            {"Field": "TicketTypeName", "From": "Task", "To": "Bug"},
            {"Field": "Severity", "From": None, "To": "High"},
        ]

    async def test_a_refused_change_sends_nothing(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        ticket = await create_ticket(events_client)
        await subscribe(events_client, receiver)
        response = await events_client.put(
            f"{API}/Tickets/{ticket['ID']}", json={"Name": "x", "Status": "No such status"}
        )
        assert response.status_code == 400
        assert await deliveries(events_app) == 0

    async def test_an_action_is_action_created(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        ticket = await create_ticket(events_client)
        await subscribe(events_client, receiver)
        action = await add_action(events_client, ticket["ID"], "Rebooted it")
        await drain(events_app)
        (event,) = events(receiver)
        assert event["type"] == "action.created"
        assert event["data"]["Action"]["ID"] == action["ID"]
        assert event["data"]["origin"] == "api"

    async def test_a_link_request_then_the_link_arrive_in_order(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver, jira_sim: Any
    ) -> None:
        from tests.support.world import configure_default_instance

        await seed_helpdesk(events_client)
        await configure_default_instance(events_client)
        ticket = await create_ticket(events_client)
        await subscribe(events_client, receiver)
        await ok(
            await events_client.put(
                f"{API}/Tickets/{ticket['ID']}", json={"JiraKey": "NewJiraIssue"}
            )
        )
        await drain(events_app)
        links = of_type(receiver, "ticket.jira_link_changed")
        statuses = [
            next(c for c in e["data"]["changes"] if c["Field"] == "JiraSyncStatus") for e in links
        ]
        assert [(s["From"], s["To"]) for s in statuses] == [
            ("None", "Pending"),
            ("Pending", "Linked"),
        ]
        assert [e["data"]["origin"] for e in links] == ["api", "jira"]
        assert links[1]["data"]["Ticket"]["JiraLinkURL"] is not None

    async def test_a_failed_link_says_why(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver, jira_sim: Any
    ) -> None:
        from tests.support.world import configure_default_instance

        await seed_helpdesk(events_client)
        await configure_default_instance(events_client)
        await subscribe(events_client, receiver)
        await create_ticket(events_client, JiraKey="DEMO-999")
        await drain(events_app)
        pending, error = of_type(receiver, "ticket.jira_link_changed")
        assert {"Field": "JiraSyncStatus", "From": "None", "To": "Pending"} in pending["data"][
            "changes"
        ]
        assert error["data"]["changes"] == [
            {"Field": "JiraSyncStatus", "From": "Pending", "To": "Error"}
        ]
        assert "DEMO-999" in error["data"]["Reason"]
        assert error["data"]["origin"] == "jira"


class TestNoEcho:
    async def test_changes_from_the_helpdesks_own_events_are_not_sent_back(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        await subscribe(events_client, receiver)
        upsert = {
            "id": "evt-1",
            "type": "ticket.upserted",
            "ticket": {"ExternalID": "hd-1", "Name": "Printer", "TicketTypeName": "Task"},
        }
        changed = {**upsert, "id": "evt-2", "ticket": {**upsert["ticket"], "Name": "Printer 2"}}
        action = {
            "id": "evt-3",
            "type": "action.created",
            "action": {"ExternalID": "a-1", "TicketExternalID": "hd-1", "Description": "Hi"},
        }
        for event in (upsert, changed, action):
            response = await events_client.post("/webhooks/helpdesk", **signed_event(event))
            assert response.status_code == 200, response.text
        assert await deliveries(events_app) == 0
        # the same change through the ticket API is sent, naming the helpdesk's ExternalID
        tickets = await ok(await events_client.get(f"{API}/Tickets"))
        (ticket,) = tickets["Tickets"]
        await ok(await events_client.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "P3"}))
        await drain(events_app)
        (sent,) = events(receiver)
        assert sent["data"]["ExternalID"] == "hd-1"


class TestSubscriptionChoices:
    async def test_event_types_and_inactive_subscriptions(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        ticket = await create_ticket(events_client)
        await subscribe(events_client, receiver, EventTypes=["action.created"])
        off = await subscribe(events_client, receiver, Name="Off")
        await ok(
            await events_client.put(f"{API}/EventSubscriptions/{off['ID']}", json={"Active": False})
        )
        await ok(await events_client.put(f"{API}/Tickets/{ticket['ID']}", json={"Name": "x"}))
        await add_action(events_client, ticket["ID"], "Hi")
        await drain(events_app)
        assert [e["type"] for e in events(receiver)] == ["action.created"]
