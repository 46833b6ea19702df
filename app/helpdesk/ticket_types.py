"""Every ticket type's name: read once per transaction, and kept between transactions while the
types are unchanged (`core/config_cache.py`). Every ticket answer shows its type's name; an
outgoing event renders its tickets' answers before and after each change from Jira."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config_cache import kept_by_id
from app.helpdesk.models import TicketType

_ALL_TYPES = select(col(TicketType.id), col(TicketType.name))  # built once
_KEPT = "helpdesk.ticket_types"


async def type_names(session: AsyncSession, including: Iterable[int] = ()) -> Mapping[int, str]:
    """Every ticket type's name, by id (`including`: the types of the tickets read, as in
    `kept_by_id`)."""

    async def read() -> Mapping[int, str]:
        rows = await session.execute(_ALL_TYPES)
        return MappingProxyType({ident or 0: name for ident, name in rows})

    return await kept_by_id(session, _KEPT, read, including)
