"""Every ticket status as plain values: read once per transaction, and kept between transactions
while the statuses are unchanged (`core/config_cache.py`). A status change from Jira picks its
target among them, and a ticket's answer (an outgoing event's, before and after the change)
shows its status's name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config_cache import kept_by_id
from app.helpdesk.models import TicketStatus

# Built once: every applied status change and every ticket answer reads it.
_ALL_STATUSES = select(
    col(TicketStatus.id),
    col(TicketStatus.ticket_type_id),
    col(TicketStatus.name),
    col(TicketStatus.is_default),
    col(TicketStatus.is_closed),
).order_by(col(TicketStatus.id))
_KEPT = "helpdesk.statuses"


@dataclass(frozen=True)
class Status:
    id: int
    ticket_type_id: int
    name: str
    is_default: bool
    is_closed: bool


async def all_statuses(
    session: AsyncSession, including: Iterable[int] = ()
) -> Mapping[int, Status]:
    """Every ticket status, by id (`including`: the statuses of the tickets read, as in
    `kept_by_id`)."""

    async def read() -> Mapping[int, Status]:
        rows = await session.execute(_ALL_STATUSES)
        found = {}
        for ident, type_id, name, is_default, is_closed in rows:
            found[ident or 0] = Status(ident or 0, type_id, name, is_default, is_closed)
        return MappingProxyType(found)

    return await kept_by_id(session, _KEPT, read, including)
