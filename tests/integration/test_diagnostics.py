"""What the instance Test says of CrmPropertyField (pure)."""

from __future__ import annotations

import pytest

from app.integration.diagnostics import crm_field_problem
from app.jira.schemas import FieldSchema, JiraField

FIELDS = [
    JiraField(id="summary", name="Summary", schema=FieldSchema(type="string", system="summary")),
    JiraField(id="customfield_10050", name="CRM Property", custom=True,
              schema=FieldSchema(type="string")),
    JiraField(id="customfield_10051", name="Customers", custom=True,
              schema=FieldSchema(type="array", items="option")),
    JiraField(id="customfield_10052", name="Odd", custom=True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("configured", "problem"),
    [
        ("CRM Property", None),
        ("  crm PROPERTY ", None),
        ("customfield_10050", None),
        ("CUSTOMFIELD_10050", None),
        ("CRM", "'CRM' is not a field of this Jira"),
        ("customfield_99999", "is not a field of this Jira"),
        ("Customers", "an array field: setcrmproperties writes text"),
        ("Odd", "a non-text field"),
    ],
)
def test_crm_field_problem(configured: str, problem: str | None) -> None:
    found = crm_field_problem(configured, FIELDS)
    if problem is None:
        assert found == []
    else:
        (message,) = found
        assert problem in message
