"""What one side of the integration tells the other, inside the transaction of the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core.events import DomainEvent


@dataclass(frozen=True)
class IssueLinked(DomainEvent):
    """A ticket is now linked to a Jira issue (the link job's last step). Jira → tickets takes
    over from here: the issue's current state, and what Jira sent before the link existed."""

    instance_id: int
    issue_id: str
    requested_at: datetime  # when the link was asked for
    created: bool  # the issue was created from the ticket


@dataclass(frozen=True)
class JiraActionsAdded(DomainEvent):
    """Actions added to tickets from Jira (a comment, or a status change told as an action)."""

    action_ids: tuple[int, ...]
