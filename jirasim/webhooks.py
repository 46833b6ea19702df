"""Webhook targets and delivery: a background queue with retries, drops and a record."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from jirasim.events import JiraEvent
from jirasim.render import Renderer
from jirasim.state import SimState
from jirasim.webhook_payloads import build_payloads

Style = Literal["cloud", "server"]
ALL_EVENTS = (
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
)


@dataclass
class WebhookTarget:
    id: int
    url: str
    secret: str | None = None
    events: list[str] = field(default_factory=lambda: list(ALL_EVENTS))
    style: Style = "cloud"
    secret_in: Literal["header", "query"] | None = None
    # As an admin registered it through `/rest/webhooks/1.0/webhook`:
    name: str = "webhook"
    enabled: bool = True
    jql: str = ""
    updated_by: str | None = None

    @property
    def secret_mode(self) -> str:
        return self.secret_in or ("header" if self.style == "cloud" else "query")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "style": self.style,
            "secretIn": self.secret_mode,
            "hasSecret": self.secret is not None,
        }


@dataclass
class Attempt:
    retry: int
    status: int | None = None
    error: str | None = None
    dropped: bool = False
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Delivery:
    id: int
    identifier: str
    target_id: int
    event: str
    url: str
    body: bytes
    signature: str | None
    duplicate_of: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    done: bool = False
    delivered: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "identifier": self.identifier,
            "targetId": self.target_id,
            "event": self.event,
            "url": self.url,
            "duplicateOf": self.duplicate_of,
            "done": self.done,
            "delivered": self.delivered,
            "attempts": [
                {"retry": a.retry, "status": a.status, "error": a.error, "dropped": a.dropped}
                for a in self.attempts
            ],
            "payload": self.payload,
        }


class WebhookDispatcher:
    """Sends each delivery in the background; non-2xx or a transport error is retried."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        max_retries: int = 3,
        retry_delay: float = 0.02,
    ) -> None:
        self.targets: dict[int, WebhookTarget] = {}
        self.deliveries: list[Delivery] = []
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.paused = False
        self._client = client
        self._owns_client = False
        self._queue: deque[tuple[Delivery, int]] = deque()
        self._drop = 0
        self._in_flight = 0
        self._scheduled = 0
        self._task: asyncio.Task[None] | None = None
        self._changed: asyncio.Event | None = None
        self._generation = 0
        self._target_ids = itertools.count(1)
        self._delivery_ids = itertools.count(1)

    # configuration

    def register(
        self,
        url: str,
        *,
        secret: str | None = None,
        events: list[str] | None = None,
        style: Style = "cloud",
        secret_in: Literal["header", "query"] | None = None,
    ) -> WebhookTarget:
        unknown = set(events or []) - set(ALL_EVENTS)
        if unknown:
            raise ValueError(f"unknown webhook events: {sorted(unknown)}")
        target = WebhookTarget(
            next(self._target_ids), url, secret, list(events or ALL_EVENTS), style, secret_in
        )
        self.targets[target.id] = target
        return target

    def unregister(self, target_id: int) -> None:
        self.targets.pop(target_id, None)

    def set_client(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._owns_client = False

    def reset(self) -> None:
        self.targets.clear()
        self.deliveries.clear()
        self._queue.clear()
        self._drop = 0
        self._generation += 1
        self.paused = False
        self._notify()

    # publishing

    def publish(self, event: JiraEvent, state: SimState, base_url: str) -> None:
        for target in [t for t in self.targets.values() if t.enabled]:
            for name, body in build_payloads(event, Renderer(state, base_url, target.style)):
                if name in target.events:
                    self._enqueue(self._delivery(target, name, body), 0)

    def _delivery(self, target: WebhookTarget, name: str, body: dict[str, Any]) -> Delivery:
        raw = json.dumps(body, separators=(",", ":")).encode()
        url, signature = target.url, None
        if target.secret is not None and target.secret_mode == "query":
            url += ("&" if "?" in url else "?") + urlencode({"secret": target.secret})
        elif target.secret is not None:
            digest = hmac.new(target.secret.encode(), raw, hashlib.sha256).hexdigest()
            signature = f"sha256={digest}"
        delivery = Delivery(
            next(self._delivery_ids), str(uuid.uuid4()), target.id, name, url, raw, signature
        )
        self.deliveries.append(delivery)
        return delivery

    # controls

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._kick()

    def drop_next(self, count: int = 1) -> None:
        """Lose the next `count` deliveries: recorded as dropped, never sent, never retried."""
        self._drop += count

    def redeliver(self, delivery_id: int, *, as_retry: bool = False) -> Delivery:
        """Send a recorded delivery again, same identifier and body (a duplicate)."""
        original = next(d for d in self.deliveries if d.id == delivery_id)
        copy = Delivery(
            next(self._delivery_ids),
            original.identifier,
            original.target_id,
            original.event,
            original.url,
            original.body,
            original.signature,
            duplicate_of=original.id,
        )
        self.deliveries.append(copy)
        self._enqueue(copy, max(1, len(original.attempts)) if as_retry else 0)
        return copy

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until nothing is queued (unless paused), in flight or waiting for a retry."""
        async with asyncio.timeout(timeout):
            while self._busy():
                self._kick()
                if self._changed is None:
                    self._changed = asyncio.Event()
                await self._changed.wait()

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    # the worker

    def _busy(self) -> bool:
        return bool(self._queue and not self.paused) or self._in_flight > 0 or self._scheduled > 0

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _enqueue(self, delivery: Delivery, retry: int) -> None:
        self._queue.append((delivery, retry))
        self._kick()

    def _kick(self) -> None:
        if self.paused or not self._queue:
            return
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while self._queue and not self.paused:
            delivery, retry = self._queue.popleft()
            self._in_flight += 1
            try:
                await self._attempt(delivery, retry)
            finally:
                self._in_flight -= 1
                self._notify()

    async def _attempt(self, delivery: Delivery, retry: int) -> None:
        attempt = Attempt(retry)
        delivery.attempts.append(attempt)
        if self._drop > 0 and retry == 0:
            self._drop -= 1
            attempt.dropped = True
            delivery.done = True
            return
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": delivery.identifier,
            "X-Atlassian-Webhook-Flow": "Primary",
        }
        if retry > 0:
            headers["X-Atlassian-Webhook-Retry"] = str(retry)
        if delivery.signature is not None:
            headers["X-Hub-Signature"] = delivery.signature
        try:
            response = await self._http().post(delivery.url, content=delivery.body, headers=headers)
            attempt.status = response.status_code
            ok = response.is_success
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
            ok = False
        if ok or retry >= self.max_retries:
            delivery.done, delivery.delivered = True, ok
            return
        self._scheduled += 1
        loop = asyncio.get_running_loop()
        delay = self.retry_delay * 2**retry
        loop.call_later(delay, self._retry_due, delivery, retry + 1, self._generation)

    def _retry_due(self, delivery: Delivery, retry: int, generation: int) -> None:
        self._scheduled -= 1
        if generation == self._generation:
            self._enqueue(delivery, retry)
        self._notify()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10.0)
            self._owns_client = True
        return self._client
