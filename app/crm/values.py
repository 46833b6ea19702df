"""Field values: what a parameter's text becomes in a record, and its searchable form (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.crm.models import CrmFieldType
from app.crm.naming import normalized
from app.crm.schema import FieldSpec

MAX_VALUE_CHARS = 10_000
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d")


class FieldValueError(ValueError):
    """The text is not a value of the field's type."""


@dataclass(frozen=True)
class Converted:
    data: Any  # stored and answered: a string, or a list of strings (multi-value dictionary)
    search: Any  # the normalised form searches compare with


def convert(spec: FieldSpec, text: str) -> Converted | None:
    """The stored form of `text` for a field other than a company reference; None clears it."""
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_VALUE_CHARS:
        raise FieldValueError(f"is longer than {MAX_VALUE_CHARS} characters")
    match spec.field_type:
        case CrmFieldType.NUMBER:
            number = parse_number(text)
            return Converted(number, number)
        case CrmFieldType.DATE:
            day = parse_date(text)
            return Converted(day, day)
        case CrmFieldType.DICTIONARY:
            value = _choice(spec, text)
            return Converted(value, normalized(value))
        case CrmFieldType.MULTI_DICTIONARY:
            chosen: list[str] = []
            for part in text.split(","):
                if part.strip() and (value := _choice(spec, part)) not in chosen:
                    chosen.append(value)
            return Converted(chosen, [normalized(value) for value in chosen]) if chosen else None
        case _:
            return Converted(text, normalized(text))


def search_form(spec: FieldSpec, text: str) -> str:
    """The form a search value is compared in (the value need not exist in a dictionary)."""
    text = text.strip()
    if spec.field_type is CrmFieldType.NUMBER:
        try:
            return parse_number(text)
        except FieldValueError:
            return normalized(text)
    if spec.field_type is CrmFieldType.DATE:
        try:
            return parse_date(text)
        except FieldValueError:
            return normalized(text)
    return normalized(text)


def parse_number(text: str) -> str:
    try:
        number = Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation as exc:
        raise FieldValueError(f"{text!r} is not a number") from exc
    if not number.is_finite() or abs(number.adjusted()) > 30:
        raise FieldValueError(f"{text!r} is not a number")
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def parse_date(text: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ].*", text):
        try:
            return datetime.fromisoformat(text).date().isoformat()
        except ValueError:
            pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise FieldValueError(f"{text!r} is not a date (use YYYY-MM-DD)")


def _choice(spec: FieldSpec, text: str) -> str:
    value = spec.choices.get(normalized(text))
    if value is None:
        raise FieldValueError(
            f"{text.strip()!r} is not a value of the dictionary {spec.dictionary!r}"
        )
    return value


def display(value: Any) -> str:
    """A stored value as the answers show it: a string, multi-values joined by commas."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if value is None:
        return ""
    return str(value)


def today() -> str:
    return date.today().isoformat()
