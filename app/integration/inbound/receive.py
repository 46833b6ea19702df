"""Receiving Jira webhooks: authenticate, decide what a delivery is for, store it de-duplicated
with its apply job (the inbox, `webhook_inbox*.py`). No call to Jira here; the answer comes in
milliseconds."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.db import utcnow
from app.core.errors import BadRequest, Unauthorized
from app.core.logging import get_logger
from app.core.security import SecretBox, signature_matches, tokens_equal
from app.integration.inbound.inbox import (
    APPLY_WEBHOOK,
    SOURCE,
    InstanceAuth,
    NewDelivery,
    Outcome,
    WebhookInbox,
    issue_ordering_key,
)
from app.integration.instances import instance_not_found
from app.integration.models import WebhookDelivery
from app.jira.webhooks import EventKind, UnreadableWebhook, parse_delivery
from app.jobs import outbox as jobs

log = get_logger(__name__)


@dataclass(frozen=True)
class Received:
    outcome: str
    delivery_id: str

    @property
    def status_code(self) -> int:
        return 202 if self.outcome == Outcome.INACTIVE else 200


def delivery_identifier(header: str | None, body: bytes) -> str:
    """Jira's `X-Atlassian-Webhook-Identifier`, or a hash of the body when it sends none."""
    if header and header.strip():
        return header.strip()[:255]
    return "sha256:" + hashlib.sha256(body).hexdigest()


async def instance_auth_or_404(inbox: WebhookInbox, instance_id: int) -> InstanceAuth:
    instance = await inbox.instance(instance_id)
    if instance is None:
        raise instance_not_found(instance_id)
    return instance


def authenticate(
    instance: InstanceAuth,
    secrets: SecretBox,
    body: bytes,
    signature: str | None,
    query_secret: str | None,
) -> None:
    """Accept `X-Hub-Signature: sha256=<hmac>` or `?secret=` (Server cannot sign); 401 else."""
    if not instance.webhook_secret_encrypted:
        raise Unauthorized("This Jira instance has no WebhookSecret; set one to receive webhooks.")
    try:
        secret = secrets.decrypt(instance.webhook_secret_encrypted)
    except ValueError as exc:
        raise Unauthorized("The instance's WebhookSecret cannot be read; set it again.") from exc
    if signature and signature_matches(signature, secret, body):
        return
    if query_secret and tokens_equal(query_secret, secret):
        return
    raise Unauthorized("Missing or wrong webhook signature.")


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # ValueError: also a number too long to read
        raise BadRequest(f"Malformed JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise BadRequest("A Jira webhook body is a JSON object.")
    return payload


async def receive(
    inbox: WebhookInbox,
    instance: InstanceAuth,
    body: bytes,
    payload: dict[str, Any],
    delivery_id: str,
    *,
    retry: str | None = None,
) -> Received:
    """Store an authenticated delivery; when it matters to linked tickets, its job is queued.
    A body that is no Jira webhook is a 400, like malformed JSON, and is not stored."""
    try:
        parsed = parse_delivery(payload)
    except UnreadableWebhook as exc:
        raise BadRequest(f"Not a Jira webhook body: {exc.reason}") from exc
    bound = log.bind(
        instance_id=instance.id,
        delivery_id=delivery_id,
        event=parsed.event,
        issue_id=parsed.issue_id,
        retry=retry,
    )
    decided: str | None = None
    if not instance.sync_active:
        decided = Outcome.INACTIVE
    elif parsed.kind is EventKind.IGNORED or parsed.issue_id is None:
        decided = Outcome.IGNORED
    stored = await inbox.store(
        NewDelivery(
            instance_id=instance.id,
            delivery_id=delivery_id,
            event=parsed.event[:128],
            body=body.decode("utf-8", errors="replace"),
            received_at=utcnow(),
            outcome=decided,
            issue_id=parsed.issue_id if decided is None else None,
        )
    )
    if stored.row_id is None:
        bound.info("jira.webhook.duplicate")
        return Received(Outcome.DUPLICATE, delivery_id)
    if stored.outcome is not None:
        bound.info(f"jira.webhook.{stored.outcome}", note=parsed.note)
        return Received(stored.outcome, delivery_id)
    bound.info("jira.webhook.accepted")
    return Received(Outcome.ACCEPTED, delivery_id)


async def replay_unlinked(
    session: AsyncSession, instance_id: int, issue_id: str, since: datetime
) -> int:
    """Queue again the deliveries about `issue_id` that came while it was not linked yet.

    A comment made in Jira while a link is being set up (e.g. right after a new issue is created)
    would otherwise be lost. Replays are safe: field changes older than what the issue reflects
    are not applied, and a comment becomes at most one action per ticket.
    """
    rows = await session.scalars(
        select(WebhookDelivery).where(
            col(WebhookDelivery.source) == SOURCE,
            col(WebhookDelivery.jira_instance_id) == instance_id,
            col(WebhookDelivery.outcome) == Outcome.UNLINKED,
            col(WebhookDelivery.received_at) >= since,
        )
    )
    replayed = 0
    for delivery in rows:
        try:
            parsed = parse_delivery(json.loads(delivery.body))
        except ValueError:
            continue
        if parsed.issue_id != issue_id:
            continue
        delivery.processed_at = None
        delivery.outcome = None
        await jobs.enqueue(
            session,
            APPLY_WEBHOOK,
            {"delivery_id": delivery.id},
            ordering_key=issue_ordering_key(instance_id, issue_id),
        )
        replayed += 1
    return replayed
