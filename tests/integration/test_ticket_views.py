"""Tickets as the ticket API shows them: JiraKey is the linked issue's current key, or the key
asked for while the link is pending or failed; JiraLinkURL only once linked; a JiraKey filter
finds the tickets linked to that issue (app/integration/ticket_views.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.helpdesk.models import Ticket
from app.helpdesk.tickets import TicketFilters
from app.integration.ticket_views import jira_link_url, jira_links, ticket_page, ticket_views
from tests.support.rows import ticket
from tests.support.world import LinkedWorld, link, linked_world


@pytest.fixture
async def world(session: AsyncSession) -> LinkedWorld:
    """Tickets 1 and 2 linked to DEMO-1 through the simulator's instance; ticket 3 not linked."""
    made = await linked_world(session, 3, linked=False)
    await link(session, made.instance, "10040", "DEMO-1", made.tickets[:2])
    return made


async def tickets(session: AsyncSession, world: LinkedWorld) -> list[Ticket]:
    return [await ticket(session, ident) for ident in world.tickets]


@pytest.mark.parametrize(
    "host", ["http://jira.test", "http://jira.test/"], ids=["bare", "trailing-slash"]
)
def test_the_link_url_is_the_issues_page(host: str) -> None:
    assert jira_link_url(host, "DEMO-1") == "http://jira.test/browse/DEMO-1"


class TestJiraLinks:
    async def test_linked_unlinked_pending_and_failed(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        linked, failed, plain = await tickets(session, world)
        failed.jira_sync_status = "Error"
        plain.jira_sync_status = "Pending"
        plain.jira_requested_key = "NewJiraIssue"
        plain.jira_instance_id = world.instance_id
        views = await jira_links(session, [linked, failed, plain])
        assert [(v.jira_key, v.jira_link_url) for v in views.values()] == [
            ("DEMO-1", "http://jira.test/browse/DEMO-1"),
            ("DEMO-1", "http://jira.test/browse/DEMO-1"),
            ("NewJiraIssue", None),
        ]
        assert list(views) == world.tickets

    @pytest.mark.parametrize(
        ("target", "attribute", "value", "shown"),
        [
            ("ticket", "jira_sync_status", "None", ("DEMO-1", None)),
            ("instance", "host_name", "", ("DEMO-1", None)),
            (
                "ticket",
                "jira_requested_key",
                "DEMO-0",
                ("DEMO-1", "http://jira.test/browse/DEMO-1"),
            ),
        ],
        ids=["unlinked-status-no-url", "no-host-no-url", "the-issues-key-wins"],
    )
    async def test_one_linked_ticket(
        self,
        session: AsyncSession,
        world: LinkedWorld,
        target: str,
        attribute: str,
        value: str,
        shown: tuple[str, str | None],
    ) -> None:
        linked, *_ = await tickets(session, world)
        setattr(linked if target == "ticket" else world.instance, attribute, value)
        view = (await jira_links(session, [linked]))[linked.id or 0]
        assert (view.jira_key, view.jira_link_url) == shown


class TestTicketPage:
    async def test_answers_carry_the_link(self, session: AsyncSession, world: LinkedWorld) -> None:
        first, *_ = await tickets(session, world)
        (answer,) = await ticket_views(session, [first])
        assert (answer["JiraKey"], answer["JiraLinkURL"], answer["JiraSyncStatus"]) == (
            "DEMO-1",
            "http://jira.test/browse/DEMO-1",
            "Linked",
        )

    @pytest.mark.parametrize("key", ["DEMO-1", "demo-1"])
    async def test_a_jira_key_finds_the_tickets_linked_to_it(
        self, session: AsyncSession, world: LinkedWorld, key: str
    ) -> None:
        answers, total = await ticket_page(session, TicketFilters(), key, 1, 50)
        assert ([a["ID"] for a in answers], total) == (world.tickets[:2], 2)

    async def test_a_key_nobody_links_finds_nothing(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        assert await ticket_page(session, TicketFilters(), "DEMO-2", 1, 50) == ([], 0)

    async def test_without_a_key_every_ticket_pages(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        answers, total = await ticket_page(session, TicketFilters(), None, 2, 2)
        assert ([a["ID"] for a in answers], total) == (world.tickets[2:], 3)
        assert answers[0]["JiraKey"] is None
