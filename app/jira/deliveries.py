"""What a Jira webhook delivery means to the service: typed events, pure data. `webhooks.py`
reads Jira's bodies (Cloud and Server/Data Center) into them, once, when a delivery arrives; they
travel on as JSON (the apply job's payload) and read back equal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    ISSUE_UPDATED = "issue_updated"
    COMMENT_CREATED = "comment_created"
    COMMENT_UPDATED = "comment_updated"
    ISSUE_DELETED = "issue_deleted"
    IGNORED = "ignored"


class Privacy(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    UNKNOWN = "unknown"  # the payload does not tell: ask Jira before showing it to anyone


@dataclass(frozen=True)
class Author:
    display_name: str
    name: str | None = None
    key: str | None = None
    email: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class CommentInfo:
    id: str
    issue_id: str | None
    body: str
    author: Author
    created: datetime | None
    privacy: Privacy


@dataclass(frozen=True)
class Move:
    old_key: str | None
    new_key: str
    project_key: str
    project_name: str | None


@dataclass(frozen=True)
class IssueChanges:
    """What changed on an issue, from a changelog or from comparing a fetched issue."""

    status_from: str | None = None
    status_to: str | None = None
    issue_type: str | None = None
    move: Move | None = None
    project_key: str | None = None  # the current project (to set the product without a move)
    project_name: str | None = None
    # Jira field display name (lower-cased) -> (display name, new value)
    fields: dict[str, tuple[str, Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.status_to or self.issue_type or self.move or self.fields)


@dataclass(frozen=True)
class ParsedDelivery:
    event: str
    kind: EventKind
    issue_id: str | None = None
    issue_key: str | None = None
    updated: datetime | None = None
    changelog_id: int | None = None
    changes: IssueChanges = field(default_factory=IssueChanges)
    comment: CommentInfo | None = None
    note: str = ""
