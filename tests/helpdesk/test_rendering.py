"""Ticket answers: every element named as in the contract, related names filled in, custom
values typed, the Jira link as the integration describes it, and one query per related table
whatever the page's size (app/helpdesk/rendering.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.helpdesk.models import TicketStatus, Version
from app.helpdesk.rendering import JiraLinkView, ticket_answers
from tests.support.statements import statements_sent
from tests.support.world import Catalog, add_custom_field, new_ticket


class TestTicketAnswers:
    async def test_elements_and_related_names(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        session.add(Version(product_id=catalog.demo_product, version_number="2.0"))
        await session.flush()
        made = await new_ticket(
            session,
            description="Smoke",
            status="Done",
            product_name="Demo Project",
            reported_version="2.0",
        )
        (answer,) = await ticket_answers(session, [made])
        assert answer == {
            "ID": made.id,
            "TicketNumber": made.ticket_number,
            "Name": "Printer on fire",
            "Description": "Smoke",
            "TicketTypeID": catalog.bug,
            "TicketTypeName": "Bug",
            "StatusID": catalog.statuses[(catalog.bug, "Done")],
            "Status": "Done",
            "IsClosed": False,
            "ProductID": catalog.demo_product,
            "ProductName": "Demo Project",
            "ReportedVersionID": made.reported_version_id,
            "ReportedVersion": "2.0",
            "DateCreated": answer["DateCreated"],
            "DateModified": answer["DateModified"],
            "JiraKey": None,
            "JiraLinkURL": None,
            "JiraSyncStatus": "None",
            "JiraInstanceID": None,
        }
        assert datetime.fromisoformat(answer["DateCreated"]) == made.date_created
        assert datetime.fromisoformat(answer["DateModified"]) == made.date_modified

    async def test_is_closed_comes_from_the_status(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        made = await new_ticket(session)
        status = await session.get(TicketStatus, made.status_id)
        assert status is not None
        status.is_closed = True
        await session.flush()
        (answer,) = await ticket_answers(session, [made])
        assert answer["IsClosed"] is True

    async def test_every_custom_field_is_an_element_typed_or_null(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        points = await add_custom_field(session, "Story Points", "Number")
        urgent = await add_custom_field(session, "Urgent", "Boolean")
        await add_custom_field(session, "Due", "Date")
        made = await new_ticket(session, {points: "2.5", urgent: "yes"})
        other = await new_ticket(session, {points: "3"})
        first, second = await ticket_answers(session, [made, other])
        assert (first["Story Points"], first["Urgent"], first["Due"]) == (2.5, True, None)
        assert (second["Story Points"], second["Urgent"], second["Due"]) == (3, None, None)
        assert list(first)[-3:] == ["Due", "Story Points", "Urgent"]

    async def test_the_jira_link_is_what_the_integration_says(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        linked, plain = await new_ticket(session), await new_ticket(session)
        view = JiraLinkView(jira_key="DEMO-1", jira_link_url="http://jira.test/browse/DEMO-1")
        first, second = await ticket_answers(session, [linked, plain], {linked.id or 0: view})
        assert (first["JiraKey"], first["JiraLinkURL"]) == ("DEMO-1", view.jira_link_url)
        assert (second["JiraKey"], second["JiraLinkURL"]) == (None, None)

    async def test_no_tickets_no_answers(self, session: AsyncSession, catalog: Catalog) -> None:
        assert await ticket_answers(session, []) == []


@pytest.fixture
def statements(db: AsyncEngine) -> Iterator[list[str]]:
    with statements_sent(db) as sent:
        yield sent


async def test_a_page_costs_the_same_queries_as_one_ticket(
    session: AsyncSession, catalog: Catalog, statements: list[str]
) -> None:
    """Each rendering from a session holding no rows (it keeps those it reads), in a
    transaction of its own (the custom fields are read once per transaction)."""
    session.add(Version(product_id=catalog.demo_product, version_number="2.0"))
    await session.flush()
    points = await add_custom_field(session, "Points", "Number")
    page = [
        await new_ticket(
            session, {points: str(n)}, product_name="Demo Project", reported_version="2.0"
        )
        for n in range(20)
    ]
    await session.commit()
    session.expunge_all()
    statements.clear()
    await ticket_answers(session, page[:1])
    one = len(statements)
    await session.commit()
    session.expunge_all()
    statements.clear()
    answers = await ticket_answers(session, page)
    assert len(statements) == one
    assert [answer["Points"] for answer in answers] == list(range(20))
