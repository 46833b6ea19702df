"""How an apply job reads the stored deliveries it applies: its own with its instance and its
issue (one statement in the usual case), the others it takes by id, and what each says (parsed
by the receiver, carried in the job's payload)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Integer, String, and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col

from app.core.config_cache import saw_stamp, stamp_column
from app.core.db import is_postgres
from app.helpdesk.models import Ticket
from app.inbox.models import WebhookDelivery
from app.integration.job_kinds import ApplyWebhook
from app.integration.models import JiraInstance, JiraIssue
from app.jira.deliveries import ParsedDelivery
from app.jira.webhooks import parse_delivery
from app.jobs import behind
from app.jobs.kinds import Job

# The stored body is for people and replays: the job's payload carries what it says.
_WITHOUT_BODY = defer(cast(QueryableAttribute[str], WebhookDelivery.body))
# Built once, bound at each use (making it would cost more than running it): a job's first
# read, its delivery with the delivery's instance, whether a job waits behind it (only then
# does the job look for them), and the configuration's stamp (`core/config_cache.py`: the
# statuses and subscriptions kept from an earlier job are used while it is the same).
_DELIVERY = (
    select(WebhookDelivery, JiraInstance, behind.anything_queued_behind(), stamp_column())
    .outerjoin(JiraInstance, col(JiraInstance.id) == WebhookDelivery.jira_instance_id)
    .where(col(WebhookDelivery.id) == bindparam("id", type_=Integer))
    .options(_WITHOUT_BODY)
)
# The usual job's first read: the same, with its issue's row locked (`issue_row`), in one round
# trip instead of two. No row when the delivery or its issue's row is missing: then
# `_DELIVERY`, and the issue apart.
_DELIVERY_AND_ISSUE = (
    _DELIVERY.add_columns(JiraIssue)
    .join(
        JiraIssue,
        and_(
            col(JiraIssue.instance_id) == WebhookDelivery.jira_instance_id,
            col(JiraIssue.issue_id) == bindparam("issue_id", type_=String),
        ),
    )
    .with_for_update(of=JiraIssue)
)


def _of_linked_tickets(column: Any) -> Any:
    """`column` of the tickets linked to the issue read with it, as an array in ticket order."""
    return (
        select(func.array_agg(aggregate_order_by(column, col(Ticket.id))))
        .where(col(Ticket.jira_issue_ref) == JiraIssue.id)
        .scalar_subquery()
    )


# PostgreSQL's first read: the same, with the issue's linked tickets (their ids and ticket
# types), a round trip fewer. Only when no other transaction holds the issue's row: read in the
# statement that locked it at once, they are what a read after it would find; a statement that
# waited for the row would still see the tickets as they were before the wait. Held elsewhere,
# no row: then `_DELIVERY`, the row waited for apart, and the tickets read after it.
_DELIVERY_ISSUE_AND_TICKETS = _DELIVERY_AND_ISSUE.add_columns(
    _of_linked_tickets(col(Ticket.id)), _of_linked_tickets(col(Ticket.ticket_type_id))
).with_for_update(of=JiraIssue, skip_locked=True)
# Each linked ticket's (id, ticket type id), by id.
LinkedRows = Sequence[tuple[int, int]]
FirstRead = tuple[WebhookDelivery, JiraInstance | None, bool, JiraIssue | None, LinkedRows | None]


async def read_job_delivery(session: AsyncSession, job: Job[ApplyWebhook]) -> FirstRead | None:
    """The job's delivery, its instance, whether a job waits behind it, its issue's row
    (locked) when the payload names the issue (else None: read apart, from the stored body),
    and on PostgreSQL the tickets linked to it (else None: `LinkedTickets` reads them); the
    configuration's stamp seen with them."""
    bound = {"id": job.payload.delivery_id, **behind.asked_behind(job)}
    if job.payload.issue_id is not None:
        bound_issue = {**bound, "issue_id": job.payload.issue_id}
        if is_postgres(session):
            found = (await session.execute(_DELIVERY_ISSUE_AND_TICKETS, bound_issue)).first()
            if found is not None:
                delivery, instance, anything_behind, stamp, issue, ids, type_ids = found
                saw_stamp(session, stamp)
                linked = list(zip(ids or (), type_ids or (), strict=True))
                return delivery, instance, anything_behind, issue, linked
        elif (row := (await session.execute(_DELIVERY_AND_ISSUE, bound_issue)).first()) is not None:
            delivery, instance, anything_behind, stamp, issue = row
            saw_stamp(session, stamp)
            return delivery, instance, anything_behind, issue, None
    found = (await session.execute(_DELIVERY, bound)).first()
    if found is None:
        return None
    delivery, instance, anything_behind, stamp = found
    saw_stamp(session, stamp)
    return delivery, instance, anything_behind, None, None


async def read_deliveries(session: AsyncSession, ids: list[int]) -> dict[int, WebhookDelivery]:
    """Deliveries taken with the job (queued behind it, or alongside), by id."""
    if not ids:
        return {}
    rows = await session.scalars(
        select(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids)).options(_WITHOUT_BODY)
    )
    return {row.id or 0: row for row in rows}


async def parsed_delivery(
    session: AsyncSession, delivery: WebhookDelivery, payload: ApplyWebhook
) -> ParsedDelivery:
    """What the delivery says, as its job's payload carries it."""
    if payload.parsed is not None:
        return payload.parsed
    await session.refresh(delivery, ["body"])  # queued before payloads carried it
    return parse_delivery(json.loads(delivery.body))
