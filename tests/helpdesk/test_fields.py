"""Custom field values, a pure rule: what is stored for a value of each field type, what is
refused and why, what the API shows back, and which pick lists a field may have
(app/helpdesk/fields.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.helpdesk.fields import (
    MAX_TEXT_LENGTH,
    FieldValueError,
    from_stored,
    to_stored,
    validate_pick_list,
)

PICKS = ["Low", "High"]


class TestToStored:
    @pytest.mark.parametrize(
        ("field_type", "value", "stored"),
        [
            ("Text", "hello", "hello"),
            ("Text", 42, "42"),
            ("Text", "x" * MAX_TEXT_LENGTH, "x" * MAX_TEXT_LENGTH),
            ("Number", "42", "42"),
            ("Number", 42, "42"),
            ("Number", " 2.50 ", "2.5"),
            ("Number", 2.5, "2.5"),
            ("Number", "1e3", "1000"),
            ("Number", "-0.001", "-0.001"),
            ("Number", "1" + "0" * 99, "1" + "0" * 99),
            ("Boolean", True, "true"),
            ("Boolean", False, "false"),
            ("Boolean", " Yes ", "true"),
            ("Boolean", "on", "true"),
            ("Boolean", "1", "true"),
            ("Boolean", "F", "false"),
            ("Boolean", "off", "false"),
            ("Date", "2024-02-29", "2024-02-29"),
            ("Date", date(2024, 2, 29), "2024-02-29"),
            ("Date", "2024-02-29T10:00:00Z", "2024-02-29T10:00:00+00:00"),
            ("Date", datetime(2024, 2, 29, 10, tzinfo=UTC), "2024-02-29T10:00:00+00:00"),
            ("PickList", "high", "High"),
            ("PickList", " LOW ", "Low"),
            ("PickList", ["High"], "High"),
        ],
    )
    def test_canonical_text(self, field_type: str, value: Any, stored: str) -> None:
        assert to_stored(field_type, PICKS, value) == stored

    @pytest.mark.parametrize("value", [None, "", "   "])
    @pytest.mark.parametrize("field_type", ["Text", "Number", "Boolean", "Date", "PickList"])
    def test_nothing_clears_the_value(self, field_type: str, value: Any) -> None:
        assert to_stored(field_type, PICKS, value) is None

    @pytest.mark.parametrize(
        ("field_type", "value", "reason"),
        [
            ("Text", "x" * (MAX_TEXT_LENGTH + 1), "is longer than 10000 characters"),
            ("Text", ["a"], "takes a single value, not a list"),
            ("Number", "twelve", "must be a number, got 'twelve'"),
            ("Number", True, "must be a number"),
            ("Number", "NaN", "must be a finite number"),
            ("Number", "Infinity", "must be a finite number"),
            ("Number", "1" * 101, "is out of range, got '" + "1" * 101 + "'"),
            ("Number", "1e309", "is out of range, got '1e309'"),
            ("Boolean", "maybe", "must be true or false, got 'maybe'"),
            (
                "Date",
                "2024-02-30",
                "must be a date (YYYY-MM-DD) or ISO date-time, got '2024-02-30'",
            ),
            ("Date", "yesterday", "must be a date (YYYY-MM-DD) or ISO date-time, got 'yesterday'"),
            ("PickList", "Medium", "must be one of ['Low', 'High'], got 'Medium'"),
            ("PickList", ["Low", "High"], "takes a single value, not a list"),
            ("Colour", "red", "has an unknown field type 'Colour'"),
        ],
    )
    def test_refusals_say_why(self, field_type: str, value: Any, reason: str) -> None:
        with pytest.raises(FieldValueError) as refused:
            to_stored(field_type, PICKS, value)
        assert str(refused.value) == reason


class TestFromStored:
    @pytest.mark.parametrize(
        ("field_type", "stored", "shown"),
        [
            ("Number", "42", 42),
            ("Number", "2.5", 2.5),
            ("Number", "1000", 1000),
            ("Boolean", "true", True),
            ("Boolean", "false", False),
            ("Text", "42", "42"),
            ("Date", "2024-02-29", "2024-02-29"),
            ("PickList", "High", "High"),
        ],
    )
    def test_typed_for_the_api(self, field_type: str, stored: str, shown: Any) -> None:
        answer = from_stored(field_type, stored)
        assert answer == shown
        assert type(answer) is type(shown)

    @pytest.mark.parametrize(
        ("field_type", "value"),
        [
            ("Number", "1e3"),
            ("Number", 2.5),
            ("Boolean", "yes"),
            ("Text", "t"),
            ("Date", date(2024, 1, 2)),
        ],
    )
    def test_a_stored_value_reads_back_as_stored(self, field_type: str, value: Any) -> None:
        stored = to_stored(field_type, PICKS, value)
        assert stored is not None
        assert to_stored(field_type, PICKS, from_stored(field_type, stored)) == stored


class TestValidatePickList:
    @pytest.mark.parametrize(
        ("field_type", "values", "cleaned"),
        [
            ("PickList", ["Low", " High ", ""], ["Low", "High"]),
            ("Text", [], []),
            ("Text", ["  "], []),
        ],
    )
    def test_cleaned(self, field_type: str, values: list[str], cleaned: list[str]) -> None:
        assert validate_pick_list(field_type, values) == cleaned

    @pytest.mark.parametrize(
        ("field_type", "values", "reason"),
        [
            ("PickList", [], "a PickList field needs at least one value in PickListValues"),
            ("PickList", [" "], "a PickList field needs at least one value in PickListValues"),
            ("Number", ["1"], "only PickList fields take PickListValues"),
            ("PickList", ["Low", "low"], "PickListValues must be unique"),
        ],
    )
    def test_refused(self, field_type: str, values: list[str], reason: str) -> None:
        with pytest.raises(FieldValueError, match=reason):
            validate_pick_list(field_type, values)
