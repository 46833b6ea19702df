"""Reading a command's parameters: control parameters, field values, `crm_param_N` pairs (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.core.errors import BadRequest
from app.crm.models import CrmFieldType
from app.crm.schema import FieldSpec, TableSchema, resolve_field

AUTH_PARAMETERS = frozenset({"command", "username", "apikey"})
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
_PAIR = re.compile(r"crm_param_(\d{1,6})(_value)?", re.IGNORECASE)
_INT = re.compile(r"\s*\d{1,18}\s*")


class Params:
    """The query and form parameters of a call; names of control parameters are case-insensitive."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self.items = [(key, value) for key, value in items]
        self._lower: dict[str, str] = {}
        for key, value in self.items:
            self._lower.setdefault(key.strip().lower(), value)

    def get(self, *names: str) -> str | None:
        """The first non-blank value among `names` (checked in order)."""
        for name in names:
            value = self._lower.get(name.lower())
            if value is not None and value.strip():
                return value.strip()
        return None

    def require(self, *names: str) -> str:
        value = self.get(*names)
        if value is None:
            raise BadRequest(f"Parameter {names[0]!r} is required.", code="MissingParameter")
        return value

    def record_id(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        if not _INT.fullmatch(value) or int(value) < 1 or int(value) > 2**31 - 1:
            raise BadRequest(
                f"Parameter {name!r} must be a positive whole number.", code="BadParameter"
            )
        return int(value)

    def page(self) -> tuple[int, int]:
        """(startAt, maxResults), Jira style, bounded."""
        start, size = 0, DEFAULT_PAGE_SIZE
        for name in ("startAt", "maxResults"):
            value = self.get(name)
            if value is None:
                continue
            if not _INT.fullmatch(value):
                raise BadRequest(f"Parameter {name!r} must be a whole number.", code="BadParameter")
            if name == "startAt":
                start = min(int(value), 2**31 - 1)
            else:
                size = max(1, min(int(value), MAX_PAGE_SIZE))
        return start, size

    def pairs(self) -> list[tuple[str, str, str]]:
        """`crm_param_N` / `crm_param_N_value` pairs in N order: (field, value, parameter)."""
        names: dict[int, str] = {}
        values: dict[int, str] = {}
        for key, value in self.items:
            match = _PAIR.fullmatch(key.strip())
            if match is None:
                continue
            target = values if match.group(2) else names
            target.setdefault(int(match.group(1)), value)
        for number in values:
            if not names.get(number, "").strip():
                raise BadRequest(
                    f"Parameter 'crm_param_{number}_value' has no 'crm_param_{number}'.",
                    code="BadParameter",
                )
        return [
            (names[n].strip(), values.get(n, ""), f"crm_param_{n}")
            for n in sorted(names)
            if names[n].strip()
        ]

    def field_items(self, control: Iterable[str]) -> list[tuple[str, str]]:
        """Parameters that are neither control parameters nor `crm_param_N` pairs."""
        skip = AUTH_PARAMETERS | {name.lower() for name in control}
        return [
            (key, value)
            for key, value in self.items
            if key.strip().lower() not in skip and _PAIR.fullmatch(key.strip()) is None
        ]


@dataclass(frozen=True)
class Assignment:
    spec: FieldSpec
    text: str
    parameter: str
    view: bool  # the display-value form (`view-…`) or a field name


def plan_assignments(table: TableSchema, items: Iterable[tuple[str, str]]) -> dict[str, Assignment]:
    """Which field gets which text. Both forms may come (`clients-x` and `view-clients-x`):
    for dictionaries and company references the display value wins, for others the raw one."""
    planned: dict[str, Assignment] = {}
    for parameter, text in items:
        ref = resolve_field(table, parameter)
        if ref is None:
            raise BadRequest(
                f"Unknown field {parameter.strip()!r} for table {table.code}.", code="UnknownField"
            )
        by_name = not parameter.strip().lower().startswith(("view-", f"{table.prefix}-"))
        candidate = Assignment(ref.spec, text, parameter, ref.view or by_name)
        current = planned.get(ref.spec.code)
        if current is None or _prefer(candidate, current):
            planned[ref.spec.code] = candidate
    return planned


def _prefer(candidate: Assignment, current: Assignment) -> bool:
    display_wins = candidate.spec.field_type in (
        CrmFieldType.COMPANY,
        CrmFieldType.DICTIONARY,
        CrmFieldType.MULTI_DICTIONARY,
    )
    if candidate.view == current.view:
        return False
    return candidate.view if display_wins else not candidate.view
