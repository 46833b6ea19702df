"""Sending one signed event: the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
`webhook-signature`, made by the `standardwebhooks` package), over one long-lived HTTP client
that calls only addresses the egress rules allow (as resolved at connect time, as for Jira) and
never follows a redirect. Every outcome is an `Answer`, never an exception."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
from standardwebhooks import Webhook

from app.core.db import utcnow
from app.core.settings import Settings
from app.jira.egress import CheckedAddressTransport, CookielessClient
from app.jira.errors import JiraAddressRefused
from app.outgoing.rules import Answer, parse_retry_after
from app.outgoing.schemas import SECRET_PATTERN

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "helpdesk-jira-sync-events/1"


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: `whsec_` and base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_problem(secret: str) -> str | None:
    """Why a given Secret cannot sign (None when it can): the documented form exactly."""
    if not secret.startswith(SECRET_PREFIX):
        return "Secret must be in the Standard Webhooks form whsec_<base64>, or left out."
    if not re.fullmatch(SECRET_PATTERN, secret):
        return "Secret must be whsec_ and the base64 of 24 to 64 bytes."
    base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)  # the pattern is base64
    return None


def signed_headers(secret: str, event_id: str, body: str, moment: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id=event_id, timestamp=moment, data=body)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class EventSender:
    """One HTTP client for every receiver."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @classmethod
    def from_settings(
        cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> EventSender:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        client = CookielessClient(
            transport=transport
            or CheckedAddressTransport(
                allow_private=settings.allow_private_event_urls,
                limits=limits,
                element="URL",
                setting="allow_private_event_urls",
            ),
            timeout=settings.event_timeout_seconds,
            follow_redirects=False,
        )
        return cls(client)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self, url: str, secret: str, event_id: str, body: str, *, timeout: float | None = None
    ) -> Answer:
        """POST the body, signed now (a retry is signed again: same id, new timestamp)."""
        headers = signed_headers(secret, event_id, body, utcnow())
        try:
            async with asyncio.timeout(timeout):
                response = await self._client.post(url, content=body.encode(), headers=headers)
        except JiraAddressRefused as exc:
            return Answer(error=exc.message, refused=True)
        except (TimeoutError, httpx.TimeoutException):
            return Answer(error="The receiver did not answer in time.")
        except httpx.HTTPError as exc:
            return Answer(error=f"Could not reach the receiver: {type(exc).__name__}: {exc}")
        retry_after = parse_retry_after(response.headers.get("retry-after"), utcnow())
        return Answer(status_code=response.status_code, retry_after=retry_after)


@asynccontextmanager
async def event_sender(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[EventSender]:
    sender = EventSender.from_settings(settings, transport)
    try:
        yield sender
    finally:
        await sender.aclose()
