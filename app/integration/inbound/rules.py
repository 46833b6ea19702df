"""Jira → tickets decisions as pure functions: what a webhook delivery means, whether it is stale,
whether a comment is private or our own echo, and which status, type, product or field value a
linked ticket gets. No I/O here; `app.integration.inbound.linked_tickets` does the database side."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

ISSUE_ID_IN_COMMENT_URL = re.compile(r"/issue/(\d+)/comment/")
# Jira Server event names of `jira:issue_updated` that are about comments, not fields.
COMMENT_EDIT_EVENTS = {"issue_comment_edited"}
COMMENT_DELETE_EVENTS = {"issue_comment_deleted"}
BUILTIN_TICKET_FIELDS = {"name": "Name", "description": "Description"}


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
class ChangeItem:
    """One changelog item (`field` is Jira's display name, `field_id` only on Cloud)."""

    field: str
    field_id: str | None
    from_string: str | None
    to_string: str | None


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


# -- parsing -------------------------------------------------------------------------------------


def parse_jira_time(value: Any) -> datetime | None:
    """Jira's `2019-02-15T19:07:51.756-0800` (or ISO with a colon, or epoch ms) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return as_utc(parsed)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; naive values (SQLite hands them back so) are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def issue_id_from_comment_url(url: Any) -> str | None:
    """Jira Server's `comment_created` has no issue: its id is in `…/issue/10013/comment/10082`."""
    match = ISSUE_ID_IN_COMMENT_URL.search(str(url or ""))
    return match.group(1) if match else None


def _author(raw: Any) -> Author:
    data = raw if isinstance(raw, Mapping) else {}
    return Author(
        display_name=str(data.get("displayName") or data.get("name") or "Jira user"),
        name=data.get("name"),
        key=data.get("key"),
        email=data.get("emailAddress"),
        account_id=data.get("accountId"),
    )


def comment_privacy(comment: Mapping[str, Any], *, payload_reliable: bool = True) -> Privacy:
    """Private when restricted to a role or group (or a service-desk internal note)."""
    if comment.get("visibility"):
        return Privacy.PRIVATE
    if comment.get("jsdPublic") is False:
        return Privacy.PRIVATE
    if not payload_reliable or "body" not in comment or "author" not in comment:
        return Privacy.UNKNOWN
    return Privacy.PUBLIC


def parse_comment(
    raw: Mapping[str, Any], issue_id: str | None, *, payload_reliable: bool = True
) -> CommentInfo:
    return CommentInfo(
        id=str(raw.get("id", "")),
        issue_id=issue_id or issue_id_from_comment_url(raw.get("self")),
        body=str(raw.get("body") or ""),
        author=_author(raw.get("author")),
        created=parse_jira_time(raw.get("created")),
        privacy=comment_privacy(raw, payload_reliable=payload_reliable),
    )


def _is_new_comment(raw: Mapping[str, Any], event_type: str | None) -> bool:
    if event_type == "issue_commented":
        return True
    created, updated = raw.get("created"), raw.get("updated")
    return updated is None or created == updated


def changelog_items(changelog: Any) -> list[ChangeItem]:
    items = changelog.get("items") if isinstance(changelog, Mapping) else None
    return [
        ChangeItem(
            field=str(item.get("field") or ""),
            field_id=item.get("fieldId"),
            from_string=item.get("fromString"),
            to_string=item.get("toString"),
        )
        for item in items or []
        if isinstance(item, Mapping)
    ]


def changes_from_changelog(
    items: Sequence[ChangeItem], issue_fields: Mapping[str, Any], issue_key: str | None
) -> IssueChanges:
    """Status, type, move and other fields from changelog items; a field's new value is taken
    from the issue's own (structured) field when the item names its id, else its `toString`."""
    status_from = status_to = issue_type = None
    project_item: ChangeItem | None = None
    key_item: ChangeItem | None = None
    fields: dict[str, tuple[str, Any]] = {}
    for item in items:
        name = item.field.lower()
        field_id = (item.field_id or "").lower()
        if name == "status" or field_id == "status":
            status_from, status_to = item.from_string, item.to_string
        elif name == "issuetype" or field_id == "issuetype":
            issue_type = item.to_string
        elif name == "project" or field_id == "project":
            project_item = item
        elif name == "key":
            key_item = item
        else:
            value: Any = item.to_string
            if item.field_id and item.field_id in issue_fields:
                value = issue_fields[item.field_id]
            fields[name] = (item.field, value)
    move = None
    if project_item is not None or key_item is not None:
        project = issue_fields.get("project") if isinstance(issue_fields, Mapping) else None
        new_key = (key_item.to_string if key_item else None) or issue_key or ""
        project_key = (
            project.get("key") if isinstance(project, Mapping) else None
        ) or new_key.rpartition("-")[0]
        project_name = (project_item.to_string if project_item else None) or (
            project.get("name") if isinstance(project, Mapping) else None
        )
        if new_key and project_key:
            move = Move(
                old_key=key_item.from_string if key_item else None,
                new_key=new_key,
                project_key=project_key,
                project_name=project_name,
            )
    return IssueChanges(
        status_from=status_from,
        status_to=status_to,
        issue_type=issue_type,
        move=move,
        fields=fields,
    )


def parse_delivery(payload: Mapping[str, Any]) -> ParsedDelivery:
    """Classify a Jira webhook body (Cloud or Server, old or new shape)."""
    event = str(payload.get("webhookEvent") or "")
    event_type = payload.get("issue_event_type_name")
    issue = payload.get("issue") if isinstance(payload.get("issue"), Mapping) else None
    issue_fields: Mapping[str, Any] = (
        issue.get("fields") or {}
        if issue is not None and isinstance(issue.get("fields"), Mapping)
        else {}
    )
    issue_id = str(issue["id"]) if issue is not None and issue.get("id") is not None else None
    issue_key = issue.get("key") if issue is not None else None
    raw_comment = payload.get("comment") if isinstance(payload.get("comment"), Mapping) else None
    if issue_id is None and raw_comment is not None:
        issue_id = issue_id_from_comment_url(raw_comment.get("self"))
    common: dict[str, Any] = {"event": event, "issue_id": issue_id, "issue_key": issue_key}

    if event == "jira:issue_created":
        return ParsedDelivery(
            kind=EventKind.IGNORED, note="issue created: Jira does not create tickets", **common
        )
    if event == "jira:issue_deleted":
        return ParsedDelivery(kind=EventKind.ISSUE_DELETED, **common)
    if event == "comment_created" and raw_comment is not None:
        created = parse_comment(raw_comment, issue_id)
        return ParsedDelivery(kind=EventKind.COMMENT_CREATED, comment=created, **common)
    if event == "comment_updated":
        return ParsedDelivery(
            kind=EventKind.COMMENT_UPDATED, note="comment edits are not propagated", **common
        )
    if event != "jira:issue_updated":
        return ParsedDelivery(kind=EventKind.IGNORED, note=f"event {event!r} not used", **common)

    changelog = payload.get("changelog")
    changes = changes_from_changelog(changelog_items(changelog), issue_fields, issue_key)
    changelog_id = _int_or_none(changelog.get("id")) if isinstance(changelog, Mapping) else None
    comment: CommentInfo | None = None
    note = ""
    if raw_comment is not None and event_type not in COMMENT_DELETE_EVENTS:
        if event_type not in COMMENT_EDIT_EVENTS and _is_new_comment(raw_comment, event_type):
            # The old Server shape (no event type name) is the one a payload cannot be trusted on.
            comment = parse_comment(raw_comment, issue_id, payload_reliable=event_type is not None)
        else:
            note = "comment edits are not propagated"
    if comment is None and changes.empty:
        kind = EventKind.COMMENT_UPDATED if note else EventKind.IGNORED
        return ParsedDelivery(kind=kind, note=note or "no change the tickets reflect", **common)
    return ParsedDelivery(
        kind=EventKind.ISSUE_UPDATED,
        updated=parse_jira_time(issue_fields.get("updated")),
        changelog_id=changelog_id,
        changes=changes,
        comment=comment,
        note=note,
        **common,
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- ordering ------------------------------------------------------------------------------------


def is_stale(
    updated: datetime | None,
    changelog_id: int | None,
    seen_updated: datetime | None,
    seen_changelog_id: int | None,
) -> bool:
    """Whether a change is older than (or the same as) what the tickets already reflect:
    by the issue's `updated` time, then by changelog id."""
    if updated is None or seen_updated is None:
        if changelog_id is not None and seen_changelog_id is not None and updated is None:
            return changelog_id <= seen_changelog_id
        return False
    updated, seen_updated = as_utc(updated), as_utc(seen_updated)
    if updated != seen_updated:
        return updated < seen_updated
    if changelog_id is None or seen_changelog_id is None:
        return False
    return changelog_id <= seen_changelog_id


# -- comments ------------------------------------------------------------------------------------


def is_integration_user(author: Author, identities: Iterable[str]) -> bool:
    """Whether a comment's author is the service's own Jira user (name, key, e-mail, accountId)."""
    known = {identity.casefold() for identity in identities if identity}
    own = (author.name, author.key, author.email, author.account_id)
    return any(value and value.casefold() in known for value in own)


# -- targets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusOption:
    id: int
    name: str
    is_default: bool


def target_status(options: Sequence[StatusOption], jira_status: str | None) -> int | None:
    """The type's status named like Jira's (case-insensitive), else the type's default."""
    if jira_status:
        wanted = jira_status.casefold()
        for option in options:
            if option.name.casefold() == wanted:
                return option.id
    for option in options:
        if option.is_default:
            return option.id
    return None


def target_ticket_type(
    type_mappings: Mapping[str, str], ticket_types: Mapping[int, str], issue_type: str
) -> int | None:
    """The TicketType mapping's type, else the ticket type of the same name, else None."""
    by_name = {name.casefold(): ident for ident, name in ticket_types.items()}
    mapped = {jira.casefold(): ours for jira, ours in type_mappings.items()}
    wanted = mapped.get(issue_type.casefold())
    if wanted is not None and wanted.casefold() in by_name:
        return by_name[wanted.casefold()]
    return by_name.get(issue_type.casefold())


@dataclass(frozen=True)
class ProductOption:
    id: int
    name: str
    jira_project_key: str | None
    jira_instance_id: int | None


def target_product(
    products: Sequence[ProductOption],
    instance_id: int,
    project_key: str,
    project_name: str | None,
) -> int | None:
    """The product with this JiraProjectKey on this instance (then one without an instance),
    else the product named like the project."""
    key = project_key.casefold()
    keyed = [p for p in products if (p.jira_project_key or "").casefold() == key]
    for wanted_instance in (instance_id, None):
        for product in keyed:
            if product.jira_instance_id == wanted_instance:
                return product.id
    if project_name:
        for product in products:
            if product.name.casefold() == project_name.casefold():
                return product.id
    return None


def jira_value(value: Any) -> Any:
    """A Jira field value in the shape `app.helpdesk.fields.to_stored` takes: options by their
    value, users by display name, multi-values as lists, numbers and dates as they are."""
    if isinstance(value, Mapping):
        for key in ("value", "name", "displayName", "key"):
            if value.get(key) is not None:
                inner = value[key]
                child = value.get("child")
                if key == "value" and isinstance(child, Mapping) and child.get("value"):
                    return f"{inner} - {child['value']}"
                return inner
        return None
    if isinstance(value, list | tuple):
        items = [jira_value(item) for item in value]
        return [item for item in items if item is not None and item != ""] or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime | date):
        return value
    return value


def multi_value_text(value: Any, field_type: str) -> Any:
    """Lists become one comma-separated text for Text fields; other types keep the list."""
    if isinstance(value, list) and field_type == "Text":
        return ", ".join(str(item) for item in value)
    return value


def changes_from_issue(
    key: str,
    fields: Mapping[str, Any],
    *,
    known_key: str | None,
    known_status: str | None,
    known_type: str | None,
    field_names: Mapping[str, str],
    mapped: Iterable[str],
) -> IssueChanges:
    """What a fetched issue changes compared with what the tickets reflect: status and type when
    they differ from the last applied ones, a move when the key changed, and every mapped field's
    current value (`field_names`: Jira field id -> display name)."""
    status = fields.get("status")
    status_name = status.get("name") if isinstance(status, Mapping) else None
    issue_type = fields.get("issuetype")
    type_name = issue_type.get("name") if isinstance(issue_type, Mapping) else None
    project = fields.get("project")
    project_key = project.get("key") if isinstance(project, Mapping) else None
    project_name = project.get("name") if isinstance(project, Mapping) else None
    move = None
    if known_key and key and known_key.upper() != key.upper():
        move = Move(
            old_key=known_key,
            new_key=key,
            project_key=project_key or key.rpartition("-")[0],
            project_name=project_name,
        )
    ids_by_name: dict[str, str] = {}
    for field_id, name in field_names.items():
        ids_by_name.setdefault(name.casefold(), field_id)
    wanted: dict[str, tuple[str, Any]] = {}
    for name in mapped:
        found = ids_by_name.get(name.casefold(), name if name in fields else None)
        if found is not None and found in fields:
            wanted[name.casefold()] = (field_names.get(found, name), fields[found])
    changed_status = status_name and (
        known_status is None or known_status.casefold() != status_name.casefold()
    )
    changed_type = type_name and (
        known_type is None or known_type.casefold() != type_name.casefold()
    )
    return IssueChanges(
        status_from=known_status,
        status_to=status_name if changed_status else None,
        issue_type=type_name if changed_type else None,
        move=move,
        project_key=project_key,
        project_name=project_name,
        fields=wanted,
    )
