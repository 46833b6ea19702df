"""The Jira Integration screen's forms read into the API's request bodies, and the API's error
words placed next to the field they are about. Pure functions, tested with tables of cases."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

# (form field, API element, visible label), in the order the screen shows them.
INSTANCE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "Name", "Instance Name"),
    ("host_name", "HostName", "Jira Host Name"),
    ("user_name", "UserName", "Jira User Name"),
    ("api_token", "ApiToken", "Jira API Token"),
    ("api_token_confirm", "", "Confirm Jira API Token"),
    ("auth_method", "AuthMethod", "Authentication"),
    ("default_project_key", "DefaultProjectKey", "Default Project KEY"),
    ("action_type_to_push", "ActionTypeToPush", "Action type to push to Jira as Comments"),
    ("update_ticket_status", "UpdateTicketStatus", "Update Helpdesk Ticket Status"),
    ("sync_active", "SyncActive", "Synchronization Active"),
    (
        "always_use_default_project_key",
        "AlwaysUseDefaultProjectKey",
        "Always Use Default Project Key",
    ),
    (
        "include_non_required_fields",
        "IncludeNonRequiredFields",
        "Include Non-Required Fields on Issue Creation",
    ),
    ("use_all_ticket_types", "UseAllTicketTypes", "Use All Ticket Types"),
    ("allowed_ticket_type_ids", "AllowedTicketTypeIDs", "Allowed ticket types"),
    ("webhook_secret", "WebhookSecret", "Webhook Secret"),
    ("crm_property_field", "CrmPropertyField", "CRM Property Field"),
)
FLAGS = tuple(field for field, _, _ in INSTANCE_FIELDS[8:13])
TEXTS = ("host_name", "user_name", "auth_method")
MAPPING_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("mapping_type", "MappingType", "Mapping Type"),
    ("jira_field", "JiraField", "Jira Field"),
    ("helpdesk_field", "TeamSupportField", "Helpdesk Field"),
)


@dataclass
class FormProblem(Exception):
    """A form the API would refuse, and the field the refusal is about ("" for the form)."""

    field: str
    message: str


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def instance_elements(form: FormData, *, renameable: bool) -> dict[str, Any]:
    """The JiraInstance elements a Save sends. A blank token or secret keeps the stored one."""
    elements: dict[str, Any] = {}
    if renameable:
        elements["Name"] = _text(form, "name")
    for field in TEXTS:
        elements[_element(field)] = _text(form, field)
    token = form.get("api_token")
    token = token if isinstance(token, str) else ""
    confirm = form.get("api_token_confirm")
    if token != (confirm if isinstance(confirm, str) else ""):
        raise FormProblem(
            "api_token_confirm", "Confirm Jira API Token does not match Jira API Token."
        )
    if token:
        elements["ApiToken"] = token
    elements["DefaultProjectKey"] = _text(form, "default_project_key") or None
    elements["ActionTypeToPush"] = _text(form, "action_type_to_push") or None
    elements["CrmPropertyField"] = _text(form, "crm_property_field") or None
    for flag in FLAGS:
        elements[_element(flag)] = form.get(flag) is not None
    allowed = []
    for value in form.getlist("allowed_ticket_type_ids"):
        if not isinstance(value, str) or not value.isdigit():
            raise FormProblem("allowed_ticket_type_ids", f"{value!r} is not a ticket type.")
        allowed.append(int(value))
    elements["AllowedTicketTypeIDs"] = allowed
    if secret := _text(form, "webhook_secret"):
        elements["WebhookSecret"] = secret
    return elements


def mapping_elements(form: FormData) -> dict[str, Any]:
    return {element: _text(form, field) or None for field, element, _ in MAPPING_FIELDS}


def _element(field: str) -> str:
    return next(element for name, element, _ in INSTANCE_FIELDS if name == field)


def field_of(message: str, fields: Sequence[tuple[str, str, str]]) -> str:
    """The form field whose API element the message names first ("" when it names none)."""
    best: tuple[int, str] | None = None
    for field, element, _ in fields:
        if not element:
            continue
        found = re.search(rf"\b{re.escape(element)}\b", message)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), field)
    return best[1] if best else ""
