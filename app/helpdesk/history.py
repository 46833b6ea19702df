"""A ticket's History: one plain line per change, e.g. "Status changed from A to B by Jira".

Every line about a ticket's own fields is worded here, once, whoever makes the change: the
ticket API in Python (`STATUS_CHANGED.text(...)`), the Jira integration for all the tickets
linked to an issue at once in SQL (`STATUS_CHANGED.sql(...)`, with columns for the parts that
differ per ticket)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from sqlalchemy import ColumnElement, SQLColumnExpression, String, literal, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.helpdesk.models import HistoryEntry

EMPTY = "(empty)"
NONE = "(none)"


@dataclass(frozen=True)
class Wording:
    template: str  # `{name}` placeholders, filled with plain values

    def text(self, **values: object) -> str:
        return self.template.format(**values)

    def sql(self, **values: SQLColumnExpression[str] | str) -> ColumnElement[str]:
        """The same line as a SQL expression, for INSERT … SELECT over many tickets."""
        parts: list[ColumnElement[str]] = []
        for literal_text, name, _spec, _conversion in string.Formatter().parse(self.template):
            if literal_text:
                parts.append(literal(literal_text, String))
            if name is not None:
                value = values[name]
                parts.append(
                    literal(value, String) if isinstance(value, str) else type_coerce(value, String)
                )
        return reduce(lambda left, right: left + right, parts)


TICKET_CREATED = Wording("Ticket created by {actor}")
NAME_CHANGED = Wording("Name changed from '{old}' to '{new}' by {actor}")
DESCRIPTION_CHANGED = Wording("Description changed by {actor}")
TYPE_CHANGED = Wording("Ticket type changed from {old} to {new} by {actor}")
STATUS_CHANGED = Wording("Status changed from {old} to {new} by {actor}")
PRODUCT_CHANGED = Wording("Product changed from {old} to {new} by {actor}")
VERSION_CHANGED = Wording("Reported version changed from {old} to {new} by {actor}")
FIELD_CHANGED = Wording("{field} changed from {old} to {new} by {actor}")
SYNC_ERROR = Wording("Jira sync error: {message}")
SYNC_RETRIED = Wording("Failed Jira sync retried by {actor}: {what}")
SYNC_DISCARDED = Wording("Failed Jira sync discarded by {actor}: {what}")


async def add_history(session: AsyncSession, ticket_id: int, description: str) -> None:
    session.add(HistoryEntry(ticket_id=ticket_id, description=description))


async def list_history(session: AsyncSession, ticket_id: int) -> Sequence[HistoryEntry]:
    """Oldest first."""
    query = select(HistoryEntry).where(col(HistoryEntry.ticket_id) == ticket_id)
    return (await session.scalars(query.order_by(col(HistoryEntry.id)))).all()
