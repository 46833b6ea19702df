"""Decisions of the ticket → Jira direction, as pure functions tested with tables of cases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

NEW_JIRA_ISSUE = "NewJiraIssue"
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$")
SYNC_PROPERTY = "helpdesk-sync"


class LinkRequestKind(StrEnum):
    UNLINK = "unlink"
    NEW_ISSUE = "new"
    EXISTING = "existing"


@dataclass(frozen=True)
class LinkRequest:
    kind: LinkRequestKind
    key: str | None = None  # the upper-cased issue key, or NEW_JIRA_ISSUE


def parse_jira_key(value: str | None) -> LinkRequest:
    """What a `JiraKey` element asks for; ValueError (plain words) for an impossible key."""
    text = (value or "").strip()
    if not text:
        return LinkRequest(LinkRequestKind.UNLINK)
    if text.lower() == NEW_JIRA_ISSUE.lower():
        return LinkRequest(LinkRequestKind.NEW_ISSUE, NEW_JIRA_ISSUE)
    key = text.upper()
    if not ISSUE_KEY.match(key):
        raise ValueError(
            f"JiraKey {text!r} is neither an issue key like PROJ-123 nor NewJiraIssue "
            "(or empty to unlink)."
        )
    return LinkRequest(LinkRequestKind.EXISTING, key)


@dataclass(frozen=True)
class ProjectKeyInputs:
    """What the five-step precedence looks at (empty strings count as not set)."""

    always_use_default: bool
    default_project_key: str | None
    version_project_key: str | None
    product_name: str | None
    product_project_key: str | None


class ProjectKeySource(StrEnum):
    ALWAYS_DEFAULT = "AlwaysUseDefaultProjectKey"
    VERSION = "ReportedVersion.JiraProjectKey"
    PRODUCT_KEY = "Product.JiraProjectKey"
    PRODUCT_NAME = "Product.Name"
    DEFAULT = "DefaultProjectKey"


def _given(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def project_key_for(inputs: ProjectKeyInputs) -> tuple[str, ProjectKeySource] | None:
    """The project key of a new issue, and which step chose it; None when no step applies.

    1. AlwaysUseDefaultProjectKey (with a DefaultProjectKey) → DefaultProjectKey
    2. the reported version's JiraProjectKey
    3. the product's JiraProjectKey
    4. the product's name
    5. DefaultProjectKey (the ticket has no product)
    """
    default = _given(inputs.default_project_key)
    if inputs.always_use_default and default:
        return default, ProjectKeySource.ALWAYS_DEFAULT
    if version_key := _given(inputs.version_project_key):
        return version_key, ProjectKeySource.VERSION
    if product_key := _given(inputs.product_project_key):
        return product_key, ProjectKeySource.PRODUCT_KEY
    if product_name := _given(inputs.product_name):
        return product_name, ProjectKeySource.PRODUCT_NAME
    if default:
        return default, ProjectKeySource.DEFAULT
    return None


def should_push_action(
    *,
    source: str,
    action_type_id: int | None,
    push_type_id: int | None,
    link_status: str,
) -> bool:
    """An action becomes a Jira comment when it came from the helpdesk, the ticket is linked (or
    being linked: the comment job runs after the link job) and its type passes ActionTypeToPush
    (None = all types)."""
    if source != "Helpdesk":
        return False
    if link_status not in ("Linked", "Pending"):
        return False
    return push_type_id is None or action_type_id == push_type_id


def ticket_global_id(ticket_id: int) -> str:
    """The remote link's globalId: stable per ticket, so a retry updates instead of adding."""
    return f"helpdesk-ticket-{ticket_id}"


def ticket_url(public_url: str, ticket_id: int) -> str:
    return f"{public_url.rstrip('/')}/api/json/Tickets/{ticket_id}"


def jql_string(text: str) -> str:
    """A JQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def issue_type_for(ticket_type_name: str, type_mappings: dict[str, str]) -> str:
    """The Jira issue type: the TicketType mapping (ticket type → issue type), else the name."""
    lowered = {name.lower(): jira for name, jira in type_mappings.items()}
    return lowered.get(ticket_type_name.lower(), ticket_type_name)
