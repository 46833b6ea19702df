"""Request and answer bodies of EventSubscriptions and EventDeliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from app.core.wire import ApiModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SubscriptionInput(ApiModel):
    name: Name | None = None
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    # Write-only: when left out on creation one is generated and answered once.
    secret: Annotated[str, StringConstraints(max_length=1024)] | None = None
    event_types: list[EventType] | None = None
    active: bool | None = None


SUBSCRIPTION_READ_ONLY = frozenset({"ID", "DateCreated", "InactiveReason"})


class SubscriptionOut(ApiModel):
    id: int
    name: str
    url: str
    event_types: list[str]
    active: bool
    inactive_reason: str | None
    date_created: datetime
    # Only in the answer to the creation (the generated or given secret); never again.
    secret: str | None = None


class SubscriptionTestOut(ApiModel):
    success: bool
    message: str
    status_code: int | None = None
    event_id: str


class DeliveryOut(ApiModel):
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    origin: str
    ticket_id: int | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    date_created: datetime
    date_delivered: datetime | None
