"""EventSubscriptions: who receives outgoing events. The URL obeys the rules of a Jira HostName
(http(s), no credentials, no link-local or metadata address, private ones unless
`allow_private_event_urls` is off); the Secret is write-only and stored encrypted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest, NotFound
from app.core.security import SecretBox
from app.core.wire import MAX_ID
from app.jira.hosts import HostNameError, check_host_name
from app.outgoing.models import EventDelivery, EventSubscription
from app.outgoing.schemas import SubscriptionInput, SubscriptionOut
from app.outgoing.sender import new_secret, secret_problem


def check_url(value: str, *, allow_private: bool) -> str:
    try:
        return check_host_name(
            value,
            allow_private=allow_private,
            element="URL",
            setting="allow_private_event_urls",
            credentials_hint="the Secret signs every event instead.",
            keep_query=True,
        )
    except HostNameError as exc:
        raise BadRequest(str(exc), code="HostNameRefused") from None


def _event_types(values: Sequence[str]) -> list[str]:
    """The types chosen (validated by the schema: the event types but ping), once each."""
    return list(dict.fromkeys(values))


async def list_subscriptions(session: AsyncSession) -> Sequence[EventSubscription]:
    query = select(EventSubscription).order_by(col(EventSubscription.id))
    return (await session.scalars(query)).all()


async def get_subscription(session: AsyncSession, subscription_id: int) -> EventSubscription:
    found = (
        await session.get(EventSubscription, subscription_id)
        if 0 < subscription_id <= MAX_ID
        else None
    )
    if found is None:
        raise NotFound(f"EventSubscription {subscription_id} does not exist.")
    return found


async def create_subscription(
    session: AsyncSession, data: SubscriptionInput, secrets: SecretBox, *, allow_private: bool
) -> tuple[EventSubscription, str]:
    """The new subscription and its secret in plain text (answered this once)."""
    if not data.name:
        raise BadRequest("EventSubscription needs Name.")
    if not data.url:
        raise BadRequest("EventSubscription needs URL.")
    secret = data.secret or new_secret()
    if (problem := secret_problem(secret)) is not None:
        raise BadRequest(problem)
    subscription = EventSubscription(
        name=data.name,
        url=check_url(data.url, allow_private=allow_private),
        secret_encrypted=secrets.encrypt(secret),
        event_types=_event_types(data.event_types or []),
        active=data.active,
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def update_subscription(
    session: AsyncSession,
    subscription: EventSubscription,
    data: SubscriptionInput,
    secrets: SecretBox,
    *,
    allow_private: bool,
) -> None:
    given = data.model_fields_set
    if not given:
        raise BadRequest("Send at least one EventSubscription element to change.")
    if "name" in given:
        if not data.name:
            raise BadRequest("Name cannot be empty.")
        subscription.name = data.name
    if "url" in given:
        if not data.url:
            raise BadRequest("URL cannot be empty.")
        subscription.url = check_url(data.url, allow_private=allow_private)
    if data.secret:  # empty or null: the current one is kept
        if (problem := secret_problem(data.secret)) is not None:
            raise BadRequest(problem)
        subscription.secret_encrypted = secrets.encrypt(data.secret)
    if "event_types" in given:
        subscription.event_types = _event_types(data.event_types or [])
    if "active" in given:
        subscription.active = data.active
        if data.active:
            subscription.inactive_reason = None
    session.add(subscription)
    await session.flush()


async def delete_subscription(session: AsyncSession, subscription: EventSubscription) -> None:
    """With its delivery log (jobs still queued for it find nothing and end)."""
    await session.execute(
        delete(EventDelivery).where(col(EventDelivery.subscription_id) == subscription.id)
    )
    await session.delete(subscription)
    await session.flush()


def subscription_answer(
    subscription: EventSubscription, secret: str | None = None
) -> SubscriptionOut:
    return SubscriptionOut(
        id=subscription.id or 0,
        name=subscription.name,
        url=subscription.url,
        event_types=list(subscription.event_types),
        active=subscription.active,
        inactive_reason=subscription.inactive_reason,
        date_created=subscription.date_created,
        secret=secret,
    )
