"""Actions as a service: creating one announces it (a linked ticket's comment is queued in the same
transaction), reading them back, and their answers (app/helpdesk/actions.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BadRequest, NotFound
from app.core.events import DomainEvent
from app.core.wire import MAX_ID
from app.helpdesk.actions import (
    action_answers,
    create_action,
    get_action,
    list_actions,
    visible_on_portal,
)
from app.helpdesk.events import ActionCreated
from app.helpdesk.models import Action, ActionType, Ticket
from app.helpdesk.schemas import ActionInput
from app.integration.job_kinds import PushComment
from tests.support.rows import count, queued_jobs, ticket
from tests.support.world import LinkedWorld, linked_world


@pytest.fixture
async def world(session: AsyncSession) -> LinkedWorld:
    """Two Bug tickets linked to DEMO-1 through the simulator's instance; action types Comment
    and Note."""
    linked = await linked_world(session, 2)
    session.add_all([ActionType(name="Comment"), ActionType(name="Note")])
    await session.commit()
    return linked


async def add(
    session: AsyncSession, to: Ticket, description: str, actor: str = "ann", **more: Any
) -> Action:
    return await create_action(session, to, ActionInput(description=description, **more), actor)


class TestCreateAction:
    async def test_on_a_linked_ticket_the_comment_is_queued_in_the_same_transaction(
        self, session: AsyncSession, world: LinkedWorld, published: list[DomainEvent]
    ) -> None:
        linked = await ticket(session, world.tickets[0])
        action = await add(session, linked, "Looked at it", action_type="comment")
        assert published == [ActionCreated(ticket_id=linked.id or 0, action_id=action.id or 0)]
        (job,) = await queued_jobs(session)
        assert (job.kind, job.ordering_key) == (PushComment.kind, f"ticket:{linked.id}")
        assert job.payload == {"ticket_id": linked.id, "action_id": action.id}
        await session.rollback()
        assert (await count(session, Action), await queued_jobs(session)) == (0, [])

    async def test_on_an_unlinked_ticket_it_is_announced_and_nothing_is_queued(
        self, session: AsyncSession, world: LinkedWorld, published: list[DomainEvent]
    ) -> None:
        unlinked = await ticket(session, world.tickets[1])
        unlinked.jira_sync_status = "None"
        unlinked.jira_issue_ref = None
        action = await add(session, unlinked, "Hi")
        assert published == [ActionCreated(ticket_id=unlinked.id or 0, action_id=action.id or 0)]
        assert await queued_jobs(session) == []

    async def test_the_row_says_who_what_and_where_from(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        linked = await ticket(session, world.tickets[0])
        by_actor = await add(session, linked, "Mine", action_type="NOTE")
        named = await add(session, linked, "Theirs", creator_name="Cy")
        note = await session.get(ActionType, by_actor.action_type_id)
        assert note is not None
        assert (note.name, by_actor.creator_name, by_actor.source) == ("Note", "ann", "Helpdesk")
        assert (named.action_type_id, named.creator_name) == (None, "Cy")
        assert by_actor.jira_comment_id is None

    async def test_the_external_id_is_kept(self, session: AsyncSession, world: LinkedWorld) -> None:
        linked = await ticket(session, world.tickets[0])
        action = await create_action(
            session, linked, ActionInput(description="x"), "Helpdesk", external_id="hd-a-1"
        )
        assert action.external_id == "hd-a-1"

    async def test_the_ticket_counts_as_modified(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        linked = await ticket(session, world.tickets[0])
        past = datetime(2020, 1, 1, tzinfo=UTC)
        linked.date_modified = past
        await add(session, linked, "x")
        assert linked.date_modified > past

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (ActionInput(), "Action needs Description."),
            (ActionInput(description=""), "Action needs Description."),
            (
                ActionInput(description="x", action_type="Nope"),
                "ActionType 'Nope' does not exist.",
            ),
        ],
    )
    async def test_a_refused_action_announces_nothing(
        self,
        session: AsyncSession,
        world: LinkedWorld,
        published: list[DomainEvent],
        data: ActionInput,
        message: str,
    ) -> None:
        linked = await ticket(session, world.tickets[0])
        with pytest.raises(BadRequest) as refused:
            await create_action(session, linked, data, "ann")
        assert refused.value.message == message
        assert published == []
        assert await queued_jobs(session) == []


class TestReadActions:
    async def test_listed_per_ticket_oldest_first(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        first_ticket = await ticket(session, world.tickets[0])
        other_ticket = await ticket(session, world.tickets[1])
        first = await add(session, first_ticket, "1", "a")
        await add(session, other_ticket, "elsewhere", "a")
        second = await add(session, first_ticket, "2", "a")
        listed = await list_actions(session, first_ticket.id or 0)
        assert [action.id for action in listed] == [first.id, second.id]

    async def test_an_action_is_found_only_on_its_own_ticket(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        first_ticket = await ticket(session, world.tickets[0])
        action = await add(session, first_ticket, "x", "a")
        assert await get_action(session, first_ticket.id or 0, action.id or 0) is action
        other = world.tickets[1]
        with pytest.raises(NotFound) as missing:
            await get_action(session, other, action.id or 0)
        assert missing.value.message == f"Action {action.id} does not exist on ticket {other}."

    @pytest.mark.parametrize("action_id", [0, -1, MAX_ID + 1])
    async def test_an_impossible_id_is_not_found(
        self, session: AsyncSession, world: LinkedWorld, action_id: int
    ) -> None:
        with pytest.raises(NotFound):
            await get_action(session, world.tickets[0], action_id)

    async def test_answers_name_the_action_type(
        self, session: AsyncSession, world: LinkedWorld
    ) -> None:
        linked = await ticket(session, world.tickets[0])
        typed = await add(session, linked, "t", action_type="Comment")
        untyped = await add(session, linked, "u")
        typed.jira_comment_id = "10001"
        answers = await action_answers(session, [typed, untyped])
        assert [(a.id, a.action_type, a.jira_comment_id) for a in answers] == [
            (typed.id, "Comment", "10001"),
            (untyped.id, None, None),
        ]
        assert answers[0].model_dump(by_alias=True)["TicketID"] == linked.id
        assert await action_answers(session, []) == []


@pytest.mark.parametrize(
    ("asked", "type_default", "visible"),
    [
        (None, None, False),
        (None, False, False),
        (None, True, True),
        (True, None, True),
        (True, False, True),
        (False, True, False),
    ],
)
def test_visible_on_portal(asked: bool | None, type_default: bool | None, visible: bool) -> None:
    action_type = (
        None if type_default is None else ActionType(name="x", is_visible_on_portal=type_default)
    )
    assert visible_on_portal(asked, action_type) is visible
