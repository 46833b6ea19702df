"""The domain event bus: subscribers of an event's exact type run in order, in the publisher's
transaction; a subscriber's error is the publisher's; a session without a bus refuses to lose
events (app/core/events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.db import session_factory
from app.core.events import BUS_KEY, DomainEvent, EventBus, publish
from app.helpdesk.models import ActionType


@dataclass(frozen=True)
class Happened(DomainEvent):
    what: str


@dataclass(frozen=True)
class AlsoHappened(Happened):
    pass


class Refused(Exception):
    pass


def recorder(log: list[str], name: str) -> Any:
    async def subscriber(_session: AsyncSession, event: Happened) -> None:
        log.append(f"{name}:{event.what}")

    return subscriber


async def publish_all(db: AsyncEngine, bus: EventBus, *events: DomainEvent) -> None:
    async with session_factory(db, bus.session_info())() as session:
        for event in events:
            await publish(session, event)


async def test_subscribers_run_in_the_order_they_subscribed(db: AsyncEngine) -> None:
    bus, log = EventBus(), []
    bus.subscribe(Happened, recorder(log, "first"))
    bus.subscribe(Happened, recorder(log, "second"))
    await publish_all(db, bus, Happened("x"))
    assert log == ["first:x", "second:x"]


async def test_only_the_exact_type_is_delivered(db: AsyncEngine) -> None:
    bus, log = EventBus(), []
    bus.subscribe(Happened, recorder(log, "base"))
    bus.subscribe(AlsoHappened, recorder(log, "sub"))
    await publish_all(db, bus, AlsoHappened("y"), DomainEvent())
    assert log == ["sub:y"]


async def test_a_subscriber_works_in_the_publishers_transaction(db: AsyncEngine) -> None:
    bus = EventBus()

    async def add_type(session: AsyncSession, event: Happened) -> None:
        session.add(ActionType(name=event.what))

    bus.subscribe(Happened, add_type)
    async with session_factory(db, bus.session_info())() as session:
        await publish(session, Happened("Comment"))
        await session.flush()
        assert await session.scalar(select(ActionType.name)) == "Comment"
        await session.rollback()
        assert await session.scalar(select(ActionType.name)) is None


async def test_a_subscribers_error_stops_the_publisher(db: AsyncEngine) -> None:
    bus, log = EventBus(), []

    async def refuse(_session: AsyncSession, _event: Happened) -> None:
        raise Refused

    bus.subscribe(Happened, refuse)
    bus.subscribe(Happened, recorder(log, "later"))
    with pytest.raises(Refused):
        await publish_all(db, bus, Happened("z"))
    assert log == []


async def test_a_session_without_a_bus_refuses_to_publish(db: AsyncEngine) -> None:
    async with session_factory(db)() as session:
        with pytest.raises(RuntimeError, match="has no event bus"):
            await publish(session, Happened("lost"))


def test_the_subscriber_list_handed_out_is_a_copy() -> None:
    bus = EventBus()
    bus.subscribe(Happened, recorder([], "one"))
    bus.subscribers(Happened).clear()
    assert len(bus.subscribers(Happened)) == 1
    assert bus.subscribers(AlsoHappened) == []
    assert bus.session_info() == {BUS_KEY: bus}
