"""A table's fields as the commands see them, and how a parameter names a field (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.crm.models import CrmFieldType
from app.crm.naming import field_key, normalized

VIEW_PREFIX = "view-"


@dataclass(frozen=True)
class FieldSpec:
    id: int
    code: str  # without the table prefix: `org_name`
    name: str  # display name: `Company name`
    field_type: CrmFieldType
    is_name: bool = False
    dictionary: str | None = None
    # normalised value -> canonical spelling, for dictionary fields
    choices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TableSchema:
    id: int
    code: str
    name: str
    prefix: str
    fields: tuple[FieldSpec, ...]

    @property
    def name_field(self) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.is_name), None)

    def full_code(self, spec: FieldSpec) -> str:
        return f"{self.prefix}-{spec.code}"

    def by_code(self, code: str) -> FieldSpec | None:
        wanted = code.strip().lower()
        return next((spec for spec in self.fields if spec.code.lower() == wanted), None)


@dataclass(frozen=True)
class FieldRef:
    """A parameter resolved to a field: `view` when it gave the display value (`view-…`)."""

    spec: FieldSpec
    view: bool


def resolve_field(table: TableSchema, parameter: str) -> FieldRef | None:
    """The field a parameter names: `<prefix>-<code>`, `view-<prefix>-<code>`, the bare code,
    or the display name (compared after Unicode normalisation, so `Сompany name` works)."""
    text = parameter.strip()
    view = text.lower().startswith(VIEW_PREFIX)
    bare = text[len(VIEW_PREFIX) :] if view else text
    prefix = f"{table.prefix}-"
    if bare.lower().startswith(prefix):
        spec = table.by_code(bare[len(prefix) :])
        if spec is not None:
            return FieldRef(spec, view)
    spec = table.by_code(bare)
    if spec is not None:
        return FieldRef(spec, view)
    if view:
        return None
    key = field_key(text)
    matches = [spec for spec in table.fields if field_key(spec.name) == key]
    if len(matches) > 1:  # two display names differing only in spacing: prefer the exact one
        matches = [spec for spec in matches if normalized(spec.name) == normalized(text)]
    return FieldRef(matches[0], False) if len(matches) == 1 else None
