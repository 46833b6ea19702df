"""The simulator's in-memory records: what a Jira instance holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

StatusCategory = Literal["new", "indeterminate", "done"]
FieldKind = Literal[
    "string",
    "number",
    "option",
    "array:option",
    "array:string",
    "date",
    "datetime",
    "user",
    # system-only kinds
    "issuetype",
    "project",
    "status",
    "priority",
    "resolution",
    "comments",
]

# The comment property Jira Service Management keeps a comment's audience in.
SD_PUBLIC_COMMENT = "sd.public.comment"

PERMISSIONS: dict[str, str] = {
    "BROWSE_PROJECTS": "Browse Projects",
    "CREATE_ISSUES": "Create Issues",
    "EDIT_ISSUES": "Edit Issues",
    "DELETE_ISSUES": "Delete Issues",
    "TRANSITION_ISSUES": "Transition Issues",
    "MOVE_ISSUES": "Move Issues",
    "ASSIGN_ISSUES": "Assign Issues",
    "ASSIGNABLE_USER": "Assignable User",
    "LINK_ISSUES": "Link Issues",
    "ADD_COMMENTS": "Add Comments",
    "EDIT_ALL_COMMENTS": "Edit All Comments",
    "EDIT_OWN_COMMENTS": "Edit Own Comments",
    "DELETE_ALL_COMMENTS": "Delete All Comments",
    "DELETE_OWN_COMMENTS": "Delete Own Comments",
    "ADMINISTER_PROJECTS": "Administer Projects",
    "ADMINISTER": "Administer Jira",  # global: the webhook REST API needs it
}


@dataclass
class User:
    name: str
    email: str
    display_name: str
    account_id: str
    tokens: set[str] = field(default_factory=set)
    permissions: set[str] = field(default_factory=lambda: set(PERMISSIONS))
    active: bool = True
    time_zone: str = "Etc/UTC"
    account_type: str = "atlassian"  # Cloud: "atlassian" (a person), "app" or "customer"


@dataclass
class IssueType:
    id: str
    name: str
    description: str = ""
    subtask: bool = False


@dataclass
class Status:
    id: str
    name: str
    category: StatusCategory


@dataclass
class Project:
    id: str
    key: str
    name: str
    issue_type_ids: list[str]
    lead: str | None = None
    next_number: int = 1
    # "software" or "service_desk" (Jira Service Management: comments are public or internal)
    type_key: str = "software"

    @property
    def service_desk(self) -> bool:
        return self.type_key == "service_desk"


@dataclass
class Option:
    id: str
    value: str
    disabled: bool = False


@dataclass
class FieldDef:
    id: str
    name: str
    kind: FieldKind
    custom: bool = False
    settable: bool = True
    options: list[Option] = field(default_factory=list)

    @property
    def custom_id(self) -> int | None:
        return int(self.id.removeprefix("customfield_")) if self.custom else None


@dataclass
class Comment:
    id: str
    issue_id: str
    body: str
    author: str
    update_author: str
    created: datetime
    updated: datetime
    visibility: dict[str, str] | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        """A Service Management internal note: `sd.public.comment` says `internal: true`."""
        value = self.properties.get(SD_PUBLIC_COMMENT)
        return isinstance(value, dict) and value.get("internal") is True


@dataclass
class RemoteLink:
    id: int
    global_id: str | None
    data: dict[str, Any]


@dataclass
class ChangeItem:
    field: str
    fieldtype: Literal["jira", "custom"]
    field_id: str | None
    from_: str | None
    from_string: str | None
    to: str | None
    to_string: str | None


@dataclass
class ChangelogEntry:
    id: str
    issue_id: str
    author: str
    created: datetime
    items: list[ChangeItem]
    action: str


@dataclass
class Issue:
    id: str
    key: str
    project_id: str
    issue_type_id: str
    status_id: str
    created: datetime
    updated: datetime
    creator: str
    values: dict[str, Any] = field(default_factory=dict)
    resolution_id: str | None = None
    resolution_date: datetime | None = None
    previous_keys: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    remote_links: list[RemoteLink] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    changelog: list[ChangelogEntry] = field(default_factory=list)

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])
