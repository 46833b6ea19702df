"""Events from an external helpdesk, applied by their ExternalIDs through the ticket and action
services: idempotent in effect, refused in plain words (app/helpdesk/external_events.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest
from app.core.events import DomainEvent
from app.helpdesk.events import ActionCreated, JiraKeyRequested, Origin
from app.helpdesk.external_events import EventOutcome, apply_event
from app.helpdesk.models import Action, Ticket, TicketCustomValue
from app.integration.job_kinds import LinkTicket, PushComment
from tests.support.rows import count, history_lines, queued_jobs
from tests.support.world import Catalog, add_custom_field, make_instance


def upserted(**ticket: Any) -> dict[str, Any]:
    return {
        "id": "evt-1",
        "type": "ticket.upserted",
        "ticket": {"ExternalID": "hd-42", "Name": "From the helpdesk", "TicketTypeName": "Bug"}
        | ticket,
    }


def action_created(**action: Any) -> dict[str, Any]:
    return {
        "id": "evt-2",
        "type": "action.created",
        "action": {"ExternalID": "hd-a-1", "TicketExternalID": "hd-42", "Description": "Hi"}
        | action,
    }


async def by_external_id(session: AsyncSession, external_id: str) -> Ticket:
    found = await session.scalar(select(Ticket).where(col(Ticket.external_id) == external_id))
    assert found is not None
    return found


class TestTicketUpserted:
    async def test_the_first_creates_the_ticket_by_the_helpdesk(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        outcome = await apply_event(session, upserted())
        ticket = await by_external_id(session, "hd-42")
        assert outcome == EventOutcome("applied", ticket_id=ticket.id)
        assert (ticket.name, ticket.ticket_type_id) == ("From the helpdesk", catalog.bug)
        assert await history_lines(session, ticket.id or 0) == ["Ticket created by Helpdesk"]

    async def test_a_later_one_updates_the_same_ticket(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        first = await apply_event(session, upserted())
        again = await apply_event(session, upserted(Name="Renamed", Status="Done") | {"id": "x"})
        assert again == first
        ticket = await by_external_id(session, "hd-42")
        assert (ticket.name, ticket.status_id) == (
            "Renamed",
            catalog.statuses[(catalog.bug, "Done")],
        )
        assert await count(session, Ticket) == 1
        assert (await history_lines(session, ticket.id or 0))[1:] == [
            "Name changed from 'From the helpdesk' to 'Renamed' by Helpdesk",
            "Status changed from Open to Done by Helpdesk",
        ]

    async def test_element_names_are_matched_whatever_their_case(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        severity = await add_custom_field(session, "Severity", "PickList", ["Low", "High"])
        event = upserted()
        event["ticket"] = {
            "externalid": "hd-7",
            "name": "Lower case",
            "tickettypename": "task",
            "severity": "high",
        }
        outcome = await apply_event(session, event)
        ticket = await by_external_id(session, "hd-7")
        assert outcome.ticket_id == ticket.id
        assert ticket.ticket_type_id == catalog.task
        value = await session.get(TicketCustomValue, (ticket.id, severity))
        assert value is not None
        assert value.value == "High"

    async def test_a_jira_key_takes_the_api_path(
        self, session: AsyncSession, catalog: Catalog, published: list[DomainEvent]
    ) -> None:
        await make_instance(session)
        await apply_event(session, upserted(JiraKey="NewJiraIssue"))
        ticket = await by_external_id(session, "hd-42")
        assert published == [
            JiraKeyRequested(ticket.id or 0, "NewJiraIssue", None, "Helpdesk", Origin.HELPDESK)
        ]
        assert ticket.jira_sync_status == "Pending"
        assert [job.kind for job in await queued_jobs(session)] == [LinkTicket.kind]

    @pytest.mark.parametrize(
        ("ticket", "message"),
        [
            ({"ExternalID": None}, "ticket.ExternalID is required."),
            ({"ExternalID": "  "}, "ticket.ExternalID is required."),
            ({"ExternalID": "x" * 256}, "ticket.ExternalID is longer than 255 characters."),
            ({"Name": {"first": "x"}}, "Element 'Name' must be a value, not an object."),
            ({"TicketTypeName": "Nope"}, "TicketTypeName 'Nope' does not exist."),
            ({"ID": 5}, "Element 'ID' is read-only."),
            ({"Nmae": "typo"}, "Unknown element 'Nmae'"),
        ],
    )
    async def test_refusals(
        self, session: AsyncSession, catalog: Catalog, ticket: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(BadRequest) as refused:
            await apply_event(session, upserted(**ticket))
        assert refused.value.message == message
        assert await count(session, Ticket) == 0


class TestActionCreated:
    async def test_added_once_to_the_ticket_with_that_external_id(
        self, session: AsyncSession, catalog: Catalog, published: list[DomainEvent]
    ) -> None:
        await apply_event(session, upserted())
        ticket = await by_external_id(session, "hd-42")
        first = await apply_event(session, action_created(CreatorName="Ann"))
        again = await apply_event(session, action_created(Description="changed") | {"id": "y"})
        (action,) = await session.scalars(select(Action))
        assert first == again == EventOutcome("applied", ticket.id, action.id)
        assert (action.description, action.creator_name) == ("Hi", "Ann")
        assert (action.external_id, action.source) == ("hd-a-1", "Helpdesk")
        assert published == [ActionCreated(ticket.id or 0, action.id or 0, origin=Origin.HELPDESK)]

    async def test_the_actor_is_the_helpdesk_without_a_creator_name(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        await apply_event(session, upserted())
        await apply_event(session, action_created())
        (action,) = await session.scalars(select(Action))
        assert action.creator_name == "Helpdesk"

    async def test_on_a_linked_ticket_the_comment_is_queued(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        await make_instance(session)
        await apply_event(session, upserted(JiraKey="DEMO-1"))
        await apply_event(session, action_created())
        assert [job.kind for job in await queued_jobs(session)] == [
            LinkTicket.kind,
            PushComment.kind,
        ]

    @pytest.mark.parametrize(
        ("action", "message"),
        [
            (
                {"TicketExternalID": "hd-404"},
                "No ticket with ExternalID 'hd-404'; send its ticket.upserted first.",
            ),
            ({"TicketExternalID": None}, "action.TicketExternalID is required."),
            ({"ExternalID": ""}, "action.ExternalID is required."),
            ({"Source": "Jira"}, "Element 'Source' is read-only."),
            ({"Description": None}, "Action needs Description."),
        ],
    )
    async def test_refusals(
        self, session: AsyncSession, catalog: Catalog, action: dict[str, Any], message: str
    ) -> None:
        await apply_event(session, upserted())
        with pytest.raises(BadRequest) as refused:
            await apply_event(session, action_created(**action))
        assert refused.value.message == message
        assert await count(session, Action) == 0


class TestOtherEvents:
    async def test_an_unknown_type_is_ignored(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        outcome = await apply_event(session, {"id": "e", "type": "ticket.deleted"})
        assert outcome == EventOutcome("ignored")
        assert await count(session, Ticket) == 0

    @pytest.mark.parametrize(
        ("event", "message"),
        [
            (
                {"type": "ticket.upserted"},
                "A ticket.upserted event needs a 'ticket' object.",
            ),
            (
                {"type": "action.created", "action": ["x"]},
                "A action.created event needs a 'action' object.",
            ),
        ],
    )
    async def test_an_event_without_its_object_is_refused(
        self, session: AsyncSession, event: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(BadRequest) as refused:
            await apply_event(session, event)
        assert refused.value.message == message
