"""Jira → tickets decisions as pure functions: whether a change is stale, whether a comment is
our own echo, and which status, type, product or field value a linked ticket gets. What a webhook
delivery says is read in `app.jira.webhooks`; no I/O here, `app.integration.inbound.linked_tickets`
does the database side."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.jira.deliveries import Author, IssueChanges, Move
from app.jira.webhooks import as_utc

BUILTIN_TICKET_FIELDS = {"name": "Name", "description": "Description"}


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
