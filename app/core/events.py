"""Domain events: a feature says what happened, inside the transaction of the change, and the
features that care react in that same transaction (typically by queueing a job). Nobody imports
the reacting feature: the composition root (`app/wiring.py`) subscribes it.

The bus travels with the session (`session.info`), set by the app's session factory, so every
unit of work of the app (a request, a job step) publishes to the app's subscribers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

BUS_KEY = "domain_event_bus"


class DomainEvent:
    """Base of every domain event (frozen dataclasses, named in the past tense)."""


EventT = TypeVar("EventT", bound=DomainEvent)
Subscriber = Callable[[AsyncSession, EventT], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[type[DomainEvent], list[Subscriber[Any]]] = {}

    def subscribe(self, event_type: type[EventT], subscriber: Subscriber[EventT]) -> None:
        self._subscribers.setdefault(event_type, []).append(subscriber)

    def subscribers(self, event_type: type[DomainEvent]) -> list[Subscriber[Any]]:
        return list(self._subscribers.get(event_type, ()))

    def session_info(self) -> dict[str, Any]:
        """The `info` of sessions that publish to this bus."""
        return {BUS_KEY: self}


async def publish(session: AsyncSession, event: DomainEvent) -> None:
    """Run every subscriber of the event, in order, in the caller's transaction; a subscriber's
    error (e.g. a refused JiraKey) is the caller's error, so nothing is half-applied."""
    bus = session.info.get(BUS_KEY)
    if not isinstance(bus, EventBus):
        raise RuntimeError(
            "This session has no event bus: open it from the app's session factory "
            "(app.wiring.session_factory), or events would be lost."
        )
    for subscriber in bus.subscribers(type(event)):
        await subscriber(session, event)
