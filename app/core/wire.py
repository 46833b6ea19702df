"""The wire base of the TeamSupport-style API, shared by every feature's request and answer bodies:
PascalCase element names (`ticket_type_id` → `TicketTypeID`), id limits, element validation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from app.core.errors import BadRequest

# NUL (PostgreSQL text cannot hold it) and lone surrogates (not encodable as UTF-8).
UNSTORABLE_CHARS = re.compile("[\x00\ud800-\udfff]")
ACRONYMS = {"Id": "ID", "Ids": "IDs", "Url": "URL"}
MAX_ID = 2_147_483_647  # ids are 32-bit integers in both databases

# An id in a body or query: anything outside the column's range is a 400, never an overflow.
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _iso_only(value: Any) -> Any:
    """Date-times are ISO 8601 text; a bare number is refused instead of read as epoch seconds."""
    if isinstance(value, int | float) or (isinstance(value, str) and _looks_numeric(value)):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-11-23T10:00:00Z")
    return value


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _in_utc(value: datetime) -> datetime:
    """The moment in UTC, as the databases compare it (no offset means UTC); a moment UTC cannot
    hold (`0001-01-01T00:00:00+01:00`, `9999-12-31T23:59:59-23:59`) is refused, not overflowed."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            "must be a date-time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"
        ) from None


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


def _true_or_false(value: Any) -> Any:
    """A JSON boolean, or XML's text `true`/`false` (any case); 0, 1 or "yes" are refused rather
    than read as a boolean."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


WireBool = Annotated[bool, BeforeValidator(_true_or_false)]


def unstorable_element(document: Any) -> str | None:
    """Where parsed JSON holds a NUL or a lone surrogate, in a key or a text at any depth
    (`ticket.Name`), or None; walked without recursion, however deep the document."""
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str):
            if UNSTORABLE_CHARS.search(value):
                return where or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{where}.{key}" if where else str(key)
                if UNSTORABLE_CHARS.search(str(key)):
                    return inner
                pending.append((inner, item))
        elif isinstance(value, list):
            pending.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return None


def pascal(name: str) -> str:
    return "".join(ACRONYMS.get(part.title(), part.title()) for part in name.split("_"))


class ApiModel(BaseModel):
    """A request or answer body; element names are matched case-insensitively on input."""

    model_config = ConfigDict(
        alias_generator=pascal, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )


def canonical_keys(
    model: type[BaseModel], data: dict[str, Any], read_only: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Rename keys to the model's exact aliases (case-insensitive) and refuse read-only ones."""
    by_lower = {
        (field.alias or name).lower(): field.alias or name
        for name, field in model.model_fields.items()
    }
    read_only_lower = {name.lower(): name for name in read_only}
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key.lower() in read_only_lower:
            raise BadRequest(f"Element {read_only_lower[key.lower()]!r} is read-only.")
        result[by_lower.get(key.lower(), key)] = value
    return result


ModelT = TypeVar("ModelT", bound=BaseModel)


class HasErrors(Protocol):
    """A pydantic or FastAPI validation error."""

    def errors(self) -> Sequence[Any]: ...


def describe_validation_error(exc: HasErrors) -> str:
    """One readable sentence per problem: `Name: Field required; TicketTypeID: …`."""
    parts: list[str] = []
    for error in exc.errors():
        location = [str(item) for item in error.get("loc", ()) if item not in ("body", "query")]
        where = ".".join(location) or "request"
        if error.get("type") == "extra_forbidden":
            parts.append(f"Unknown element {where!r}")
        else:
            parts.append(f"{where}: {error.get('msg', 'invalid value')}")
    return "; ".join(parts) or "Invalid request."


def validate_elements(
    model: type[ModelT], elements: dict[str, Any], read_only: frozenset[str] = frozenset()
) -> ModelT:
    """Validate parsed elements; empty XML elements mean "no value"."""
    cleaned = canonical_keys(model, elements, read_only)
    try:
        return model.model_validate(cleaned)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc)) from exc
