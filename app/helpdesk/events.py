"""What the helpdesk announces (domain events), published inside the transaction of the change.

The helpdesk knows nothing of Jira: the Jira integration subscribes to these (see
`app/wiring.py`) and queues its jobs in the same transaction, so nothing is lost or doubled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.events import DomainEvent, publish


class Origin(StrEnum):
    """Where a change came from: the Jira integration, the ticket API, or the external
    helpdesk's own events (`POST /webhooks/helpdesk`)."""

    JIRA = "jira"
    API = "api"
    HELPDESK = "helpdesk"


@dataclass(eq=False)
class ChangeScope:
    """Some tickets about to change together. Subscribers keep what they need between
    `TicketsChanging` and `TicketsChanged` in `notes` (e.g. the tickets as they were)."""

    ticket_ids: tuple[int, ...]
    origin: Origin
    reason: str | None = None  # why, in plain words, when the change is an error
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketsChanging(DomainEvent):
    scope: ChangeScope


@dataclass(frozen=True)
class TicketsChanged(DomainEvent):
    scope: ChangeScope


@asynccontextmanager
async def changing(
    session: AsyncSession, ticket_ids: Sequence[int], origin: Origin, reason: str | None = None
) -> AsyncIterator[ChangeScope]:
    """Announce a change to these tickets before and after the block, in its transaction."""
    scope = ChangeScope(tuple(ticket_ids), origin, reason)
    if scope.ticket_ids:
        await publish(session, TicketsChanging(scope))
    yield scope
    if scope.ticket_ids:
        await publish(session, TicketsChanged(scope))


@dataclass(frozen=True)
class ActionCreated(DomainEvent):
    """A helpdesk user (or the external helpdesk) added an action to a ticket."""

    ticket_id: int
    action_id: int
    origin: Origin = Origin.API


@dataclass(frozen=True)
class JiraKeyRequested(DomainEvent):
    """A ticket's `JiraKey` element was given: an issue key, `NewJiraIssue`, or empty (unlink)."""

    ticket_id: int
    jira_key: str | None
    jira_instance_id: int | None
    actor: str
    origin: Origin = Origin.API


@dataclass(frozen=True)
class ActionTypeDeleteRequested(DomainEvent):
    """An action type is about to be deleted; a subscriber that still uses it raises `StillUsed`."""

    action_type_id: int


class StillUsed(Exception):
    """Raised by a subscriber to refuse a deletion; the reason is shown to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
