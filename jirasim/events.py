"""What happened in Jira, as handed to the webhook sender."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from jirasim.model import ChangelogEntry, Comment, Issue, User

EventKind = Literal[
    "issue_created",
    "issue_updated",
    "issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
]


@dataclass(frozen=True)
class JiraEvent:
    kind: EventKind
    issue: Issue
    user: User
    at: datetime
    event_type_name: str
    changelog: ChangelogEntry | None = None
    comment: Comment | None = None


EventSink = Callable[[JiraEvent], None]
