"""Mapped ticket values → Jira create fields, by the createmeta schema."""

from __future__ import annotations

from typing import Any

import pytest

from app.integration.outbound.field_mapping import (
    FieldConversionError,
    MappedValue,
    create_fields,
    to_jira_value,
)
from app.jira.schemas import CreateMetaField


def meta(
    fid: str,
    name: str,
    kind: str,
    *,
    items: str | None = None,
    required: bool = False,
    allowed: list[str] | None = None,
) -> CreateMetaField:
    return CreateMetaField.model_validate(
        {
            "id": fid,
            "name": name,
            "required": required,
            "schema": {"type": kind, "items": items},
            "allowedValues": [
                {"value": value, "id": str(i)} for i, value in enumerate(allowed or [])
            ],
        }
    )


SEVERITY = meta("customfield_1", "Severity", "option", required=True, allowed=["High", "Low"])


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (meta("c2", "Ref", "string"), 42, "42"),
        (meta("c3", "Points", "number"), "3", 3),
        (meta("c3", "Points", "number"), "2.5", 2.5),
        (SEVERITY, "high", {"value": "High"}),
        (meta("c4", "Tags", "array", items="string"), "a, b", ["a", "b"]),
        (meta("c4", "Tags", "array", items="string"), ["x"], ["x"]),
        (
            meta("c5", "Areas", "array", items="option", allowed=["UI", "API"]),
            ["ui", "API"],
            [{"value": "UI"}, {"value": "API"}],
        ),
        (meta("c6", "Due", "date"), "2026-11-23", "2026-11-23"),
        (meta("c6", "Due", "date"), "2026-11-23T10:00:00+00:00", "2026-11-23"),
        (meta("c7", "When", "datetime"), "2026-11-23T10:00:00", "2026-11-23T10:00:00.000+0000"),
        (meta("priority", "Priority", "priority", allowed=[]), "High", {"name": "High"}),
    ],
)
def test_values_take_the_shape_of_their_schema(
    field: CreateMetaField, value: Any, expected: Any
) -> None:
    assert to_jira_value(field, value) == expected


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        (SEVERITY, "Medium", "must be one of"),
        (meta("c3", "Points", "number"), "many", "must be a number"),
        (meta("c3", "Points", "number"), True, "must be a number"),
        (meta("c6", "Due", "date"), "soon", "must be a date"),
        (meta("c8", "Owner", "user"), "jdoe", "cannot be set"),
    ],
)
def test_values_that_do_not_fit_are_refused(field: CreateMetaField, value: Any, why: str) -> None:
    with pytest.raises(FieldConversionError, match=why):
        to_jira_value(field, value)


class TestCreateFields:
    METADATA = [SEVERITY, meta("customfield_2", "Customer Ref", "string")]

    def test_required_fields_are_always_sent(self) -> None:
        result = create_fields(
            self.METADATA,
            [MappedValue("Severity", "Urgency", "low"), MappedValue("Customer Ref", "Ref", "A1")],
            include_non_required=False,
        )
        assert result.fields == {"customfield_1": {"value": "Low"}}

    def test_non_required_fields_only_when_asked(self) -> None:
        result = create_fields(
            self.METADATA,
            [MappedValue("Severity", "Urgency", "low"), MappedValue("customfield_2", "Ref", "A1")],
            include_non_required=True,
        )
        assert result.fields == {"customfield_1": {"value": "Low"}, "customfield_2": "A1"}

    def test_empty_values_are_left_out_for_jira_to_judge(self) -> None:
        result = create_fields(
            self.METADATA, [MappedValue("Severity", "Urgency", None)], include_non_required=True
        )
        assert result.fields == {}

    def test_unknown_fields_and_misfits_are_noted_not_sent(self) -> None:
        result = create_fields(
            self.METADATA,
            [MappedValue("Nope", "X", "1"), MappedValue("Severity", "Urgency", "Medium")],
            include_non_required=True,
        )
        assert result.fields == {}
        assert len(result.notes) == 2
        assert "not on the create screen" in result.notes[0]
        assert "must be one of" in result.notes[1]
