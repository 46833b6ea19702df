"""Request and answer bodies of EventSubscriptions and EventDeliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints, WithJsonSchema

from app.core.wire import ApiModel, Flag

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
EventType = Literal["ticket.updated", "action.created", "ticket.jira_link_changed"]
# The form of a receiver's URL: an http(s) URL with a host, without credentials or fragment (a
# query is kept). Which hosts are taken is further checked (`jira.hosts`, the HostName rules):
# refusals say HostNameRefused.
Url = Annotated[
    str,
    StringConstraints(max_length=2048),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 2048,
            "pattern": r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@:\u0000]+(:[0-9]{1,5})?"
            r"(/[^\s?#\u0000]*)?(\?[^\s#\u0000]*)?\s*$",
        }
    ),
]
# A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 bytes (empty or null: one is
# generated on creation, the current one kept on a change).
SECRET_PATTERN = (
    r"whsec_(?:(?:[A-Za-z0-9+/]{4}){8,20}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
    r"|(?:[A-Za-z0-9+/]{4}){21}(?:[A-Za-z0-9+/]{2}==)?)"
)
Secret = Annotated[
    str,
    StringConstraints(max_length=100),
    WithJsonSchema(
        {"type": "string", "maxLength": 100, "pattern": rf"^\s*$|^\s*{SECRET_PATTERN}\s*$"}
    ),
]


class SubscriptionInput(ApiModel):
    name: Name | None = None
    url: Url | None = None
    # Write-only: when left out on creation one is generated and answered once.
    secret: Secret | None = None
    event_types: list[EventType] | None = None
    active: Flag = True  # read only when given: never null


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
