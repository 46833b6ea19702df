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
from app.core.logging import annotate_request, get_logger
from app.core.security import SecretBox, signature_matches, tokens_equal
from app.inbox.models import WebhookDelivery
from app.integration.inbound.inbox import (
    SOURCE,
    InstanceAuth,
    NewDelivery,
    Outcome,
    WebhookInbox,
)
from app.integration.instances import instance_not_found
from app.integration.job_kinds import ApplyWebhook
from app.jira.deliveries import EventKind, ParsedDelivery
from app.jira.webhooks import UnreadableWebhook, parse_delivery
from app.jobs import outbox as jobs

log = get_logger(__name__)

MAX_INT_DIGITS = 4300  # Python's own limit on reading a number from text


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


def _number_or_text(digits: str) -> int | str:
    """A JSON integer, or its text when it is longer than Python reads as a number (4,300
    digits): no Jira id or count is, and the typed parse says so instead of a crash."""
    return int(digits) if len(digits) <= MAX_INT_DIGITS else digits


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as JSON in UTF-8 (RFC 8259; Jira sends nothing else): UTF-16 or UTF-32, and the
    NaN and Infinity that `json.loads` would read, are refused before anything is stored."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The body is not valid UTF-8.") from None
    if "\x00" in text:  # never in JSON text; UTF-16 or UTF-32 without a byte order mark
        raise BadRequest("The body is not valid UTF-8: it holds NUL bytes.")
    try:
        payload = json.loads(text, parse_int=_number_or_text, parse_constant=_not_json)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"Malformed JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise BadRequest("A Jira webhook body is a JSON object.")
    return payload


def _outcome_known_now(instance: InstanceAuth, parsed: ParsedDelivery) -> str | None:
    """The outcome decided before storing, or None: it may matter to linked tickets."""
    if not instance.sync_active:
        return Outcome.INACTIVE
    if parsed.kind is EventKind.IGNORED or parsed.issue_id is None:
        return Outcome.IGNORED
    return None


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

    A JSON body that is no Jira webhook is stored too (outcome `unreadable`, the reason logged)
    and answered 200: a 4xx or 5xx would only make Jira send it again for hours."""
    try:
        parsed = parse_delivery(payload)
        decided = _outcome_known_now(instance, parsed)
    except UnreadableWebhook as exc:
        parsed = ParsedDelivery(event="", kind=EventKind.IGNORED, note=exc.reason)
        decided = Outcome.UNREADABLE
    annotate_request(
        instance_id=instance.id,
        delivery_id=delivery_id,
        jira_event=parsed.event,
        issue_id=parsed.issue_id,
        retry=retry,
    )
    stored = await inbox.store(
        NewDelivery(
            instance_id=instance.id,
            delivery_id=delivery_id,
            event=parsed.event[:128],
            body=body.decode("utf-8", errors="replace"),
            received_at=utcnow(),
            outcome=decided,
            issue_id=parsed.issue_id if decided is None else None,
            parsed=parsed if decided is None else None,
        )
    )
    if stored.row_id is None:
        outcome = Outcome.DUPLICATE
    else:
        outcome = stored.outcome or Outcome.ACCEPTED
    annotate_request(outcome=outcome)
    if outcome == Outcome.UNREADABLE:
        log.info("jira.webhook.unreadable", note=parsed.note)  # kept for a person to read
    return Received(outcome, delivery_id)


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
            ApplyWebhook(
                delivery_id=delivery.id or 0,
                instance_id=instance_id,
                issue_id=issue_id,
                parsed=parsed,
            ),
        )
        replayed += 1
    return replayed
