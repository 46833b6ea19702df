"""Where received Jira deliveries are stored: the inbox the webhook receiver writes to.

Storing a delivery is one decision made by the database: insert it unless its id was seen, and
when it concerns a linked issue, queue its apply job in the same transaction. `SessionInbox` does
it through the request's session on any database; `PostgresInbox` (next module) does it in one
statement, since this is the hottest path of the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.helpdesk.models import Ticket
from app.inbox.models import WebhookDelivery
from app.integration.job_kinds import ApplyWebhook
from app.integration.models import JiraInstance, JiraIssue
from app.jira.deliveries import ParsedDelivery
from app.jobs import outbox as jobs

SOURCE = "jira"


class Outcome:
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNLINKED = "unlinked"
    INACTIVE = "inactive"
    UNREADABLE = "unreadable"  # JSON, but not a Jira webhook body: kept for a person to read


@dataclass(frozen=True)
class InstanceAuth:
    """What the receiver needs of an instance: whether it syncs, and its (encrypted) secret."""

    id: int
    sync_active: bool
    webhook_secret_encrypted: str | None


@dataclass(frozen=True)
class NewDelivery:
    instance_id: int
    delivery_id: str
    event: str
    body: str
    received_at: datetime
    # None: the delivery may matter to tickets (stored as accepted when its issue is linked,
    # else as unlinked); otherwise the outcome already decided (inactive, ignored).
    outcome: str | None
    issue_id: str | None
    parsed: ParsedDelivery | None = None  # what the apply job will apply (parsed once)


@dataclass(frozen=True)
class Stored:
    """`row_id` None: a duplicate. `outcome` None: accepted, its apply job queued."""

    row_id: int | None
    outcome: str | None


class WebhookInbox(Protocol):
    async def instance(self, instance_id: int) -> InstanceAuth | None: ...

    async def store(self, delivery: NewDelivery) -> Stored: ...


class SessionInbox:
    """The inbox through an ORM session (SQLite and PostgreSQL); the caller's unit of work
    commits, and its waker starts the queued job."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def instance(self, instance_id: int) -> InstanceAuth | None:
        instance = await self.session.get(JiraInstance, instance_id)
        if instance is None:
            return None
        return InstanceAuth(instance_id, instance.sync_active, instance.webhook_secret_encrypted)

    async def store(self, delivery: NewDelivery) -> Stored:
        outcome = delivery.outcome
        if outcome is None and not await self._is_linked(delivery):
            outcome = Outcome.UNLINKED
        row_id = await self._insert(delivery, outcome)
        if row_id is not None and outcome is None:
            assert delivery.issue_id is not None
            await jobs.enqueue(
                self.session,
                ApplyWebhook(
                    delivery_id=row_id,
                    instance_id=delivery.instance_id,
                    issue_id=delivery.issue_id,
                    parsed=delivery.parsed,
                ),
            )
        return Stored(row_id, outcome)

    async def _is_linked(self, delivery: NewDelivery) -> bool:
        found = await self.session.scalar(
            select(col(JiraIssue.id))
            .join(Ticket, col(Ticket.jira_issue_ref) == JiraIssue.id)
            .where(
                col(JiraIssue.instance_id) == delivery.instance_id,
                col(JiraIssue.issue_id) == delivery.issue_id,
                col(JiraIssue.deleted).is_(False),
            )
            .limit(1)
        )
        return found is not None

    async def _insert(self, delivery: NewDelivery, outcome: str | None) -> int | None:
        """Insert the delivery unless its id was seen; the new row id, None on a repeat."""
        values: dict[str, Any] = {
            "source": SOURCE,
            "delivery_id": delivery.delivery_id,
            "jira_instance_id": delivery.instance_id,
            "event": delivery.event,
            "body": delivery.body,
            "received_at": delivery.received_at,
            "processed_at": delivery.received_at if outcome else None,
            "outcome": outcome,
        }
        bind = self.session.bind
        dialect = postgresql if bind is not None and bind.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(WebhookDelivery)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["source", "delivery_id"])
            .returning(col(WebhookDelivery.id))
        )
        new_id = await self.session.scalar(statement)
        return int(new_id) if new_id is not None else None
