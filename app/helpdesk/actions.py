"""Ticket actions (comments and notes)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.errors import BadReference, BadRequest, NotFound
from app.core.events import publish
from app.core.wire import MAX_ID
from app.helpdesk.events import ActionCreated, Origin
from app.helpdesk.models import Action, ActionSource, ActionType, Ticket
from app.helpdesk.schemas import ActionInput, ActionOut


async def create_action(
    session: AsyncSession,
    ticket: Ticket,
    data: ActionInput,
    actor: str,
    external_id: str | None = None,
    origin: Origin = Origin.API,
) -> Action:
    if not data.description:
        raise BadRequest("Action needs Description.")
    action_type: ActionType | None = None
    if data.action_type:
        action_type = await session.scalar(
            select(ActionType).where(func.lower(ActionType.name) == data.action_type.lower())
        )
        if action_type is None:
            raise BadReference(f"ActionType {data.action_type!r} does not exist.")
    action = Action(
        ticket_id=ticket.id or 0,
        action_type_id=action_type.id if action_type else None,
        is_visible_on_portal=visible_on_portal(data.is_visible_on_portal, action_type),
        description=data.description,
        creator_name=data.creator_name or actor,
        source=ActionSource.HELPDESK,
        external_id=external_id,
    )
    session.add(action)
    ticket.date_modified = utcnow()
    session.add(ticket)
    await session.flush()
    await publish(
        session, ActionCreated(ticket_id=ticket.id or 0, action_id=action.id or 0, origin=origin)
    )
    return action


def visible_on_portal(asked: bool | None, action_type: ActionType | None) -> bool:
    """What the action says, else its type's default, else not visible (pure)."""
    if asked is not None:
        return asked
    return action_type.is_visible_on_portal if action_type is not None else False


async def list_actions(session: AsyncSession, ticket_id: int) -> Sequence[Action]:
    query = select(Action).where(col(Action.ticket_id) == ticket_id).order_by(col(Action.id))
    return (await session.scalars(query)).all()


async def get_action(session: AsyncSession, ticket_id: int, action_id: int) -> Action:
    action = await session.get(Action, action_id) if 0 < action_id <= MAX_ID else None
    if action is None or action.ticket_id != ticket_id:
        raise NotFound(f"Action {action_id} does not exist on ticket {ticket_id}.")
    return action


async def action_answers(session: AsyncSession, actions: Sequence[Action]) -> list[ActionOut]:
    type_ids = {action.action_type_id for action in actions if action.action_type_id}
    names: dict[int | None, str] = {}
    if type_ids:
        rows = await session.execute(
            select(col(ActionType.id), col(ActionType.name)).where(col(ActionType.id).in_(type_ids))
        )
        names = {row.id: row.name for row in rows}
    return [
        ActionOut(
            id=action.id or 0,
            ticket_id=action.ticket_id,
            action_type=names.get(action.action_type_id),
            description=action.description,
            creator_name=action.creator_name,
            date_created=action.date_created,
            source=action.source,
            jira_comment_id=action.jira_comment_id,
            is_visible_on_portal=action.is_visible_on_portal,
        )
        for action in actions
    ]
