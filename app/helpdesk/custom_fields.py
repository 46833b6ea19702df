"""Every custom field's name and type, as plain values: read once per transaction, and kept
between transactions while the fields are unchanged (`core/config_cache.py`). Every ticket
answer shows its tickets' values under their fields' names; an outgoing event renders its
tickets' answers before and after each change from Jira."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config_cache import kept_by_id
from app.helpdesk.models import CustomField

_ALL_FIELDS = select(
    col(CustomField.id), col(CustomField.name), col(CustomField.field_type)
)  # built once
_KEPT = "helpdesk.custom_fields"


@dataclass(frozen=True)
class FieldDefinition:
    id: int
    name: str
    field_type: str


async def all_custom_fields(
    session: AsyncSession, including: Iterable[int] = ()
) -> Mapping[int, FieldDefinition]:
    """Every custom field, by id (`including`: the fields of the values read, as in
    `kept_by_id`)."""

    async def read() -> Mapping[int, FieldDefinition]:
        rows = await session.execute(_ALL_FIELDS)
        found = {}
        for ident, name, field_type in rows:
            found[ident or 0] = FieldDefinition(ident or 0, name, field_type)
        return MappingProxyType(found)

    return await kept_by_id(session, _KEPT, read, including)
