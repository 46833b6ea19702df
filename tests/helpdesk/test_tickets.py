"""Tickets as a service: references by ID or name, numbers, custom values, History lines, the
JiraKey announcement, deletion and listing (app/helpdesk/tickets.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest
from app.core.events import DomainEvent
from app.helpdesk.events import JiraKeyRequested
from app.helpdesk.models import (
    Action,
    CustomField,
    HistoryEntry,
    Ticket,
    TicketCustomValue,
    Version,
)
from app.helpdesk.schemas import TicketInput
from app.helpdesk.tickets import (
    TicketFilters,
    delete_ticket,
    list_tickets,
    split_elements,
    update_ticket,
)
from app.integration.job_kinds import LinkTicket
from tests.support.rows import count, history_lines, queued_jobs
from tests.support.world import (
    Catalog,
    add_custom_field,
    add_ticket_type,
    link,
    make_instance,
    new_ticket,
)


async def change(
    session: AsyncSession,
    ticket: Ticket,
    custom: dict[int, Any] | None = None,
    actor: str = "bob",
    **elements: Any,
) -> Ticket:
    return await update_ticket(session, ticket, TicketInput(**elements), custom or {}, actor)


async def add_version(session: AsyncSession, product_id: int, number: str) -> int:
    version = Version(product_id=product_id, version_number=number)
    session.add(version)
    await session.flush()
    return version.id or 0


class TestCreateTicket:
    async def test_by_names_with_the_types_default_status_and_a_history_line(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        ticket = await new_ticket(session, ticket_type_name="bug", product_name="demo project")
        assert ticket.ticket_type_id == catalog.bug
        assert ticket.status_id == catalog.statuses[(catalog.bug, "Open")]
        assert ticket.product_id == catalog.demo_product
        assert ticket.jira_sync_status == "None"
        assert await history_lines(session, ticket.id or 0) == ["Ticket created by ann"]

    async def test_numbers_follow_one_another(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        first, second = await new_ticket(session), await new_ticket(session)
        assert second.ticket_number == first.ticket_number + 1

    @pytest.mark.parametrize(
        ("elements", "message"),
        [
            ({"name": None}, "Ticket needs Name."),
            ({"ticket_type_name": None}, "Ticket needs TicketTypeID or TicketTypeName."),
            ({"ticket_type_name": "Nope"}, "TicketTypeName 'Nope' does not exist."),
            ({"ticket_type_id": 999}, "TicketTypeID 999 does not exist."),
            (
                {"ticket_type_id": "bug", "ticket_type_name": "Task"},
                "TicketTypeName 'Task' does not match the ID given ('Bug').",
            ),
            ({"status": "New"}, "Status 'New' does not exist for ticket type 'Bug'."),
            ({"status_id": 999}, "StatusID 999 does not exist."),
            ({"status_id": "task New"}, "Status 'New' belongs to another ticket type."),
            ({"product_id": 999}, "ProductID 999 does not exist."),
            ({"reported_version": "1.0"}, "A ReportedVersion needs the ticket's Product."),
            (
                {"product_name": "Support", "reported_version": "1.0"},
                "ReportedVersion '1.0' does not exist for product 'Support'.",
            ),
            (
                {"product_name": "Support", "reported_version_id": "version 1.0"},
                "Version '1.0' belongs to another product.",
            ),
        ],
    )
    async def test_a_wrong_reference_is_refused_in_plain_words(
        self, session: AsyncSession, catalog: Catalog, elements: dict[str, Any], message: str
    ) -> None:
        version = await add_version(session, catalog.demo_product, "1.0")
        ids = {
            "bug": catalog.bug,
            "task New": catalog.statuses[(catalog.task, "New")],
            "version 1.0": version,
        }
        elements = {name: ids.get(value, value) for name, value in elements.items()}
        with pytest.raises(BadRequest) as refused:
            await new_ticket(session, **elements)
        assert refused.value.message == message
        assert await count(session, Ticket) == 0

    async def test_a_type_without_statuses_cannot_hold_tickets(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        await add_ticket_type(session, "Empty", [])
        with pytest.raises(BadRequest, match="Ticket type 'Empty' has no statuses yet."):
            await new_ticket(session, ticket_type_name="Empty")

    async def test_custom_values_are_stored_canonically_without_a_change_line(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        severity = await add_custom_field(session, "Severity", "PickList", ["Low", "High"])
        ticket = await new_ticket(session, {severity: "high"})
        stored = await session.get(TicketCustomValue, (ticket.id, severity))
        assert stored is not None
        assert stored.value == "High"
        assert await history_lines(session, ticket.id or 0) == ["Ticket created by ann"]

    async def test_a_bad_custom_value_names_the_field(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        points = await add_custom_field(session, "Points", "Number")
        with pytest.raises(BadRequest) as refused:
            await new_ticket(session, {points: "many"})
        assert refused.value.message == "Points must be a number, got 'many'."

    async def test_without_jira_key_nothing_is_announced(
        self, session: AsyncSession, catalog: Catalog, published: list[DomainEvent]
    ) -> None:
        await new_ticket(session)
        assert published == []
        assert await queued_jobs(session) == []

    async def test_a_jira_key_is_announced_and_the_link_queued_in_the_same_transaction(
        self, session: AsyncSession, catalog: Catalog, published: list[DomainEvent]
    ) -> None:
        instance = await make_instance(session)
        ticket = await new_ticket(session, jira_key="demo-7")
        assert published == [JiraKeyRequested(ticket.id or 0, "demo-7", None, "ann")]
        assert (ticket.jira_sync_status, ticket.jira_requested_key) == ("Pending", "DEMO-7")
        assert ticket.jira_instance_id == instance.id
        (job,) = await queued_jobs(session)
        assert (job.kind, job.ordering_key) == (LinkTicket.kind, f"ticket:{ticket.id}")
        assert job.payload == {"ticket_id": ticket.id, "key": "DEMO-7", "instance_id": instance.id}
        assert await history_lines(session, ticket.id or 0) == [
            "Ticket created by ann",
            "Jira link to DEMO-7 requested by ann",
        ]
        await session.rollback()
        assert (await count(session, Ticket), await queued_jobs(session)) == (0, [])

    async def test_a_jira_key_the_integration_refuses_refuses_the_ticket(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        await make_instance(session, sync_active=False)
        with pytest.raises(BadRequest, match="SyncActive is off"):
            await new_ticket(session, jira_key="DEMO-7")


class TestUpdateTicket:
    async def test_each_change_is_one_history_line_naming_the_actor(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        severity = await add_custom_field(session, "Severity", "Text")
        await add_version(session, catalog.demo_product, "2.0")
        ticket = await new_ticket(session)
        await change(
            session,
            ticket,
            {severity: "High"},
            name="Renamed",
            description="more",
            status="In Progress",
            product_name="Demo Project",
        )
        await change(session, ticket, reported_version="2.0")
        await change(session, ticket, ticket_type_name="Task")
        await change(session, ticket, status="new")  # no change
        assert await history_lines(session, ticket.id or 0) == [
            "Ticket created by ann",
            "Name changed from 'Printer on fire' to 'Renamed' by bob",
            "Description changed by bob",
            "Status changed from Open to In Progress by bob",
            "Product changed from (none) to Demo Project by bob",
            "Severity changed from (empty) to High by bob",
            "Reported version changed from (none) to 2.0 by bob",
            "Ticket type changed from Bug to Task by bob",
            "Status changed from In Progress to New by bob",
        ]

    async def test_clearing_a_custom_value_is_a_line_too(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        severity = await add_custom_field(session, "Severity", "Text")
        ticket = await new_ticket(session, {severity: "High"})
        await change(session, ticket, {severity: ""})
        assert await session.get(TicketCustomValue, (ticket.id, severity)) is None
        assert (await history_lines(session, ticket.id or 0))[-1] == (
            "Severity changed from High to (empty) by bob"
        )

    async def test_no_change_leaves_the_ticket_as_it_was(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        ticket = await new_ticket(session, description="d")
        past = datetime(2020, 1, 1, tzinfo=UTC)
        ticket.date_modified = past
        await change(session, ticket, name="Printer on fire", description="d", status="open")
        assert ticket.date_modified == past
        assert await history_lines(session, ticket.id or 0) == ["Ticket created by ann"]

    async def test_a_real_change_moves_date_modified(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        ticket = await new_ticket(session)
        past = datetime(2020, 1, 1, tzinfo=UTC)
        ticket.date_modified = past
        await change(session, ticket, name="Renamed")
        assert ticket.date_modified > past

    async def test_another_product_drops_the_version_of_the_old_one(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        await add_version(session, catalog.demo_product, "1.0")
        ticket = await new_ticket(session, product_name="Demo Project", reported_version="1.0")
        await change(session, ticket, product_name="Support")
        assert (ticket.product_id, ticket.reported_version_id) == (catalog.support_product, None)

    async def test_an_empty_name_is_refused(self, session: AsyncSession, catalog: Catalog) -> None:
        ticket = await new_ticket(session)
        with pytest.raises(BadRequest, match="Name cannot be empty."):
            await change(session, ticket, name=None)

    async def test_a_jira_key_links_the_ticket_pending_with_a_link_job(
        self, session: AsyncSession, catalog: Catalog, published: list[DomainEvent]
    ) -> None:
        instance = await make_instance(session)
        ticket = await new_ticket(session)
        await change(session, ticket, jira_key="NewJiraIssue")
        assert published == [JiraKeyRequested(ticket.id or 0, "NewJiraIssue", None, "bob")]
        assert ticket.jira_sync_status == "Pending"
        (job,) = await queued_jobs(session, LinkTicket.kind)
        assert job.payload == {
            "ticket_id": ticket.id,
            "key": "NewJiraIssue",
            "instance_id": instance.id,
        }
        assert (await history_lines(session, ticket.id or 0))[-1] == (
            "Jira link to a new issue requested by bob"
        )

    async def test_an_empty_jira_key_unlinks(
        self, session: AsyncSession, catalog: Catalog, published: list[DomainEvent]
    ) -> None:
        instance = await make_instance(session)
        ticket = await new_ticket(session)
        await link(session, instance, "10040", "DEMO-1", [ticket.id or 0])
        await change(session, ticket, jira_key="")
        assert published == [JiraKeyRequested(ticket.id or 0, "", None, "bob")]
        assert (ticket.jira_sync_status, ticket.jira_issue_ref, ticket.jira_instance_id) == (
            "None",
            None,
            None,
        )
        assert (await history_lines(session, ticket.id or 0))[-1] == (
            "Jira link to DEMO-1 removed by bob"
        )
        assert await queued_jobs(session) == []


class TestDeleteTicket:
    async def test_its_actions_history_and_values_go_with_it(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        severity = await add_custom_field(session, "Severity", "Text")
        ticket = await new_ticket(session, {severity: "High"})
        kept = await new_ticket(session)
        session.add(Action(ticket_id=ticket.id or 0, description="hi"))
        await session.flush()
        await delete_ticket(session, ticket)
        assert await session.get(Ticket, ticket.id) is None
        assert await count(session, Action) == 0
        assert await count(session, TicketCustomValue) == 0
        assert await history_lines(session, ticket.id or 0) == []
        assert await history_lines(session, kept.id or 0) == ["Ticket created by ann"]
        assert await count(session, CustomField) == 1


class TestListTickets:
    async def test_filters_combine(self, session: AsyncSession, catalog: Catalog) -> None:
        instance = await make_instance(session)
        bug_open = await new_ticket(session, product_name="Demo Project")
        bug_done = await new_ticket(session, status="Done", product_name="Support")
        task = await new_ticket(
            session, ticket_type_name="Task", status="Done", product_name="Demo Project"
        )
        issue = await link(session, instance, "10040", "DEMO-1", [bug_done.id or 0])
        await session.execute(
            update(Ticket)
            .where(col(Ticket.id) != task.id)
            .values(date_modified=datetime(2020, 1, 1, tzinfo=UTC))
        )

        async def ids(**filters: Any) -> list[int]:
            rows, total = await list_tickets(session, TicketFilters(**filters), 1, 50)
            assert total == len(rows)
            return [row.id or 0 for row in rows]

        assert await ids() == [bug_open.id, bug_done.id, task.id]
        assert await ids(status="DONE") == [bug_done.id, task.id]
        assert await ids(status="Done", ticket_type_id=catalog.bug) == [bug_done.id]
        assert await ids(product_id=catalog.demo_product) == [bug_open.id, task.id]
        assert await ids(jira_issue_refs=[issue.id]) == [bug_done.id]
        assert await ids(jira_issue_refs=[]) == []
        since = datetime.now(UTC) - timedelta(hours=1)
        assert await ids(date_modified_since=since) == [task.id]

    async def test_pages_and_the_total(self, session: AsyncSession, catalog: Catalog) -> None:
        made = [(await new_ticket(session)).id for _ in range(5)]
        rows, total = await list_tickets(session, TicketFilters(), 2, 2)
        assert ([row.id for row in rows], total) == (made[2:4], 5)


class TestSplitElements:
    def test_custom_fields_by_name_case_and_spaces_aside(self) -> None:
        fields = [CustomField(id=7, name="Customer Ref", field_type="Text")]
        builtin, custom = split_elements(
            {"Name": "x", "customer_ref": "42", "ticketTypeName": "Bug", "Nmae": "typo"}, fields
        )
        assert builtin == {"Name": "x", "ticketTypeName": "Bug", "Nmae": "typo"}
        assert custom == {7: "42"}

    def test_a_built_in_element_wins_over_a_field_of_the_same_name(self) -> None:
        fields = [CustomField(id=3, name="Status", field_type="Text")]
        assert split_elements({"status": "Open"}, fields) == ({"status": "Open"}, {})


async def test_history_is_kept_per_ticket(session: AsyncSession, catalog: Catalog) -> None:
    first, second = await new_ticket(session, actor="ann"), await new_ticket(session, actor="cy")
    await change(session, first, name="Renamed")
    assert await history_lines(session, second.id or 0) == ["Ticket created by cy"]
    assert await count(session, HistoryEntry) == 3
