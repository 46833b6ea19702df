"""Mapped ticket fields → the `fields` of a Jira create request, shaped as createmeta says.

Pure: createmeta (ids, required, schema, allowed values) and the ticket's values come in, the
Jira field values and plain-words notes about skipped fields come out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.jira.schemas import CreateMetaField

# Fields the create request sets itself; a mapping to one of them is ignored.
RESERVED_FIELDS = frozenset({"project", "issuetype", "summary", "description"})


class FieldConversionError(ValueError):
    """A value that does not fit the Jira field; the message says why."""


@dataclass(frozen=True)
class MappedValue:
    """One `Ticket` mapping with the ticket's current value (None = empty)."""

    jira_field: str  # the Jira field's name (or id), as the mapping names it
    helpdesk_field: str
    value: Any


@dataclass
class CreateFields:
    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _find_meta(meta: list[CreateMetaField], name: str) -> CreateMetaField | None:
    wanted = name.strip().casefold()
    for item in meta:
        if item.id.casefold() == wanted:
            return item
    for item in meta:
        if item.name.casefold() == wanted:
            return item
    return None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [item for item in value if item is not None and str(item).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise FieldConversionError("must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldConversionError(f"must be a number, got {value!r}") from None
    if not number.is_finite():
        raise FieldConversionError("must be a finite number")
    return int(number) if number == number.to_integral_value() else float(number)


def _option(value: Any, allowed: list[dict[str, Any]]) -> str:
    text = str(value).strip()
    if not allowed:
        return text
    names = [str(item.get("value", item.get("name", ""))) for item in allowed]
    for name in names:
        if name.casefold() == text.casefold():
            return name
    raise FieldConversionError(f"must be one of {names}, got {text!r}")


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise FieldConversionError(f"must be a date (YYYY-MM-DD), got {value!r}") from None


def _datetime(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise FieldConversionError(f"must be a date-time, got {value!r}") from None
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000%z")


def to_jira_value(meta: CreateMetaField, value: Any) -> Any:
    """A helpdesk value in the shape Jira's create takes for this field."""
    kind = (meta.schema_.type or "string").lower()
    items = (meta.schema_.items or "").lower()
    if kind == "string" or kind == "any":
        return str(value)
    if kind == "number":
        return _number(value)
    if kind == "option":
        return {"value": _option(value, meta.allowed_values)}
    if kind in ("priority", "resolution", "component", "version", "securitylevel"):
        return {"name": _option(value, meta.allowed_values)}
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    if kind == "array":
        values = _as_list(value)
        if items == "option":
            return [{"value": _option(item, meta.allowed_values)} for item in values]
        if items in ("component", "version"):
            return [{"name": _option(item, meta.allowed_values)} for item in values]
        if items in ("string", ""):
            return [str(item) for item in values]
        if items == "number":
            return [_number(item) for item in values]
        raise FieldConversionError(f"is a list of {items}, which cannot be set from a ticket")
    raise FieldConversionError(f"has the Jira type {kind!r}, which cannot be set from a ticket")


def create_fields(
    meta: list[CreateMetaField], mapped: list[MappedValue], *, include_non_required: bool
) -> CreateFields:
    """The mapped fields to send: required ones always, the others only when asked to."""
    result = CreateFields()
    for item in mapped:
        found = _find_meta(meta, item.jira_field)
        if found is None:
            result.notes.append(
                f"Jira field {item.jira_field!r} is not on the create screen; not sent."
            )
            continue
        if found.id in RESERVED_FIELDS:
            continue
        if not found.required and not include_non_required:
            continue
        if item.value is None or (isinstance(item.value, str) and not item.value.strip()):
            continue
        try:
            result.fields[found.id] = to_jira_value(found, item.value)
        except FieldConversionError as exc:
            result.notes.append(f"{item.helpdesk_field} → {found.name} {exc}; not sent.")
    return result
