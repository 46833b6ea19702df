"""The Jira Integration form read into JiraInstance elements, and API refusals placed next to
the field they name: tables of cases, no I/O."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import FormData

from app.console.jira_forms import (
    INSTANCE_FIELDS,
    MAPPING_FIELDS,
    FormProblem,
    field_of,
    instance_elements,
    mapping_elements,
)

BASE = [
    ("name", " Cloud "),
    ("host_name", "https://acme.atlassian.net"),
    ("user_name", "bot@acme.test"),
    ("auth_method", "Basic"),
    ("default_project_key", ""),
    ("action_type_to_push", ""),
    ("api_token", ""),
    ("api_token_confirm", ""),
    ("webhook_secret", ""),
]


def form(*extra: tuple[str, str], drop: tuple[str, ...] = ()) -> FormData:
    return FormData([(k, v) for k, v in BASE if k not in drop] + list(extra))


def test_a_plain_save() -> None:
    elements = instance_elements(form(("sync_active", "on")), renameable=True)
    assert elements == {
        "Name": "Cloud",
        "HostName": "https://acme.atlassian.net",
        "UserName": "bot@acme.test",
        "AuthMethod": "Basic",
        "DefaultProjectKey": None,
        "ActionTypeToPush": None,
        "CrmPropertyField": None,
        "UpdateTicketStatus": False,
        "SyncActive": True,
        "AlwaysUseDefaultProjectKey": False,
        "IncludeNonRequiredFields": False,
        "UseAllTicketTypes": False,
        "AllowedTicketTypeIDs": [],
    }


@pytest.mark.parametrize(
    ("extra", "renameable", "expected"),
    [
        ((), False, {"Name": None}),  # the Default instance: never renamed
        ((("api_token", "t0k"), ("api_token_confirm", "t0k")), True, {"ApiToken": "t0k"}),
        ((("webhook_secret", " s3cret "),), True, {"WebhookSecret": "s3cret"}),
        ((("action_type_to_push", "Comment"),), True, {"ActionTypeToPush": "Comment"}),
        ((("default_project_key", " SUP "),), True, {"DefaultProjectKey": "SUP"}),
        ((("crm_property_field", " Customer "),), True, {"CrmPropertyField": "Customer"}),
        (
            (("allowed_ticket_type_ids", "2"), ("allowed_ticket_type_ids", "5")),
            True,
            {"AllowedTicketTypeIDs": [2, 5]},
        ),
    ],
)
def test_what_a_save_sends(
    extra: tuple[tuple[str, str], ...], renameable: bool, expected: dict[str, Any]
) -> None:
    keys = {"api_token", "api_token_confirm", "webhook_secret", "action_type_to_push"}
    elements = instance_elements(form(*extra, drop=tuple(keys)), renameable=renameable)
    for element, value in expected.items():
        assert elements.get(element) == value


def test_blank_secrets_keep_the_stored_ones() -> None:
    elements = instance_elements(form(), renameable=True)
    assert "ApiToken" not in elements
    assert "WebhookSecret" not in elements


def test_the_confirmation_must_match() -> None:
    with pytest.raises(FormProblem) as refused:
        instance_elements(
            form(
                ("api_token", "a"),
                ("api_token_confirm", "b"),
                drop=("api_token", "api_token_confirm"),
            ),
            renameable=True,
        )
    assert refused.value.field == "api_token_confirm"


def test_a_mapping() -> None:
    sent = FormData(
        [("mapping_type", "Ticket"), ("jira_field", "Severity"), ("helpdesk_field", "")]
    )
    assert mapping_elements(sent) == {
        "MappingType": "Ticket",
        "JiraField": "Severity",
        "TeamSupportField": None,
    }


@pytest.mark.parametrize(
    ("message", "fields", "expected"),
    [
        ("HostName: the host must be named", INSTANCE_FIELDS, "host_name"),
        ("WebhookSecret must be at least 16 characters long", INSTANCE_FIELDS, "webhook_secret"),
        ("Changing HostName needs ApiToken again", INSTANCE_FIELDS, "host_name"),
        ("ActionTypeToPush 'x' is not an action type", INSTANCE_FIELDS, "action_type_to_push"),
        ("A JiraInstance named 'Cloud' already exists.", INSTANCE_FIELDS, ""),
        ("Name cannot be empty.", INSTANCE_FIELDS, "name"),
        ("UserName: too long", INSTANCE_FIELDS, "user_name"),
        ("TeamSupportField 'x' is not a ticket type.", MAPPING_FIELDS, "helpdesk_field"),
        ("Jira field 'Severity' is already mapped", MAPPING_FIELDS, ""),
        ("JiraField: Field required", MAPPING_FIELDS, "jira_field"),
    ],
)
def test_a_refusal_goes_next_to_the_field_it_names(
    message: str, fields: Any, expected: str
) -> None:
    assert field_of(message, fields) == expected
