"""What the helpdesk announces (domain events), published inside the transaction of the change.

The helpdesk knows nothing of Jira: the Jira integration subscribes to these (see
`app/wiring.py`) and queues its jobs in the same transaction, so nothing is lost or doubled."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.events import DomainEvent


@dataclass(frozen=True)
class ActionCreated(DomainEvent):
    """A helpdesk user (or the external helpdesk) added an action to a ticket."""

    ticket_id: int
    action_id: int


@dataclass(frozen=True)
class JiraKeyRequested(DomainEvent):
    """A ticket's `JiraKey` element was given: an issue key, `NewJiraIssue`, or empty (unlink)."""

    ticket_id: int
    jira_key: str | None
    jira_instance_id: int | None
    actor: str


@dataclass(frozen=True)
class ActionTypeDeleteRequested(DomainEvent):
    """An action type is about to be deleted; a subscriber that still uses it raises `StillUsed`."""

    action_type_id: int


class StillUsed(Exception):
    """Raised by a subscriber to refuse a deletion; the reason is shown to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
