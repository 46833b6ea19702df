"""Custom field values: validation and conversion to the canonical text stored per ticket.

Pure functions; the Jira → ticket direction converts incoming values through the same rules.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.helpdesk.models import FieldType

TRUE_WORDS = {"true", "1", "yes", "y", "on", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "off", "f"}
MAX_TEXT_LENGTH = 10_000
# Numbers are kept as exact decimal text; these bounds keep that text short (doubles reach 1e308).
MAX_DIGITS = 100
MAX_EXPONENT = 308


class FieldValueError(ValueError):
    """A value that does not fit its field's type; the message says why in plain words."""


def to_stored(field_type: str, pick_list: list[str], value: Any) -> str | None:
    """Canonical text for a value of a field, or None to clear it; raises FieldValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, list):
        if field_type != FieldType.PICKLIST or len(value) != 1:
            raise FieldValueError("takes a single value, not a list")
        value = value[0]
    if field_type == FieldType.TEXT:
        text = str(value)
        if len(text) > MAX_TEXT_LENGTH:
            raise FieldValueError(f"is longer than {MAX_TEXT_LENGTH} characters")
        return text
    if field_type == FieldType.NUMBER:
        return _number(value)
    if field_type == FieldType.BOOLEAN:
        return _boolean(value)
    if field_type == FieldType.DATE:
        return _date(value)
    if field_type == FieldType.PICKLIST:
        return _pick(pick_list, value)
    raise FieldValueError(f"has an unknown field type {field_type!r}")


def from_stored(field_type: str, stored: str) -> Any:
    """The API value for stored text: numbers and booleans typed, the rest as text."""
    if field_type == FieldType.NUMBER:
        number = Decimal(stored)
        return int(number) if number == number.to_integral_value() else float(number)
    if field_type == FieldType.BOOLEAN:
        return stored == "true"
    return stored


def _number(value: Any) -> str:
    if isinstance(value, bool):
        raise FieldValueError("must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise FieldValueError(f"must be a number, got {value!r}") from exc
    if not number.is_finite():
        raise FieldValueError("must be a finite number")
    if len(number.as_tuple().digits) > MAX_DIGITS or abs(number.adjusted()) > MAX_EXPONENT:
        raise FieldValueError(f"is out of range, got {value!r}")
    normal = number.normalize()
    return format(normal, "f") if normal == normal.to_integral_value() else str(normal)


def _boolean(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return "true"
    if word in FALSE_WORDS:
        return "false"
    raise FieldValueError(f"must be true or false, got {value!r}")


def _date(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError as exc:
        raise FieldValueError(
            f"must be a date (YYYY-MM-DD) or ISO date-time, got {value!r}"
        ) from exc


def _pick(pick_list: list[str], value: Any) -> str:
    text = str(value).strip()
    for option in pick_list:
        if option.lower() == text.lower():
            return option
    raise FieldValueError(f"must be one of {pick_list}, got {text!r}")


def validate_pick_list(field_type: str, values: list[str]) -> list[str]:
    cleaned = [value.strip() for value in values if value.strip()]
    if field_type == FieldType.PICKLIST and not cleaned:
        raise FieldValueError("a PickList field needs at least one value in PickListValues")
    if field_type != FieldType.PICKLIST and cleaned:
        raise FieldValueError("only PickList fields take PickListValues")
    if len({value.lower() for value in cleaned}) != len(cleaned):
        raise FieldValueError("PickListValues must be unique")
    return cleaned
