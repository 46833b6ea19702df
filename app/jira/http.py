"""HTTP to one Jira instance: auth, retries with backoff, 429 handling, write pacing, metrics."""

from __future__ import annotations

import asyncio
import random as random_module
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import httpx
import structlog
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.jira.auth import AuthMethod
from app.jira.egress import CheckedAddressTransport, CookielessClient
from app.jira.errors import (
    JiraRateLimited,
    error_from_response,
    error_from_transport,
    unexpected_body,
)
from app.jira.metrics import JiraMetrics, default_metrics
from app.jira.pacing import (
    IssueWritePacer,
    QuotaGate,
    QuotaPause,
    Random,
    RateLimitKind,
    RetryPolicy,
    parse_retry_after,
    rate_limit_kind,
)

log = structlog.get_logger(__name__)

USER_AGENT = "helpdesk-jira-sync/0.1"
RETRY_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Failures that happen before the request leaves: safe to repeat whatever the method.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
# Told when a quota 429 starts pausing every call to the Jira (to log it where admins look).
PauseListener = Callable[[QuotaPause], Awaitable[None]]
ModelT = TypeVar("ModelT", bound=BaseModel)


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <personal access token>` (Jira Server/Data Center PAT)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def make_auth(auth_method: AuthMethod | str, user_name: str, secret: str) -> httpx.Auth:
    if AuthMethod(auth_method) is AuthMethod.BEARER:
        return BearerAuth(secret)
    return httpx.BasicAuth(user_name, secret)


class JiraHttp:
    """One `httpx.AsyncClient` plus the rules for repeating calls.

    Connections go only to addresses the host rules allow (`egress`; private ones only with
    `allow_private`). GET/PUT/DELETE (and reads sent as POST) are retried on connection errors,
    timeouts and 5xx; other POSTs only when the request never left, else `JiraAmbiguousResult`.
    429s are retried for any method, honouring Retry-After, each kind of limit in its scope:
    a burst 429 delays that call, a per-issue one the writes to that issue, and a quota 429
    (the tenant's or app's points-based quota) every call to this Jira until the time given:
    a call that would wait longer than `max_retry_after` is refused at once (`JiraRateLimited`,
    never sent), so each job reschedules instead of discovering the quota on its own.
    """

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth,
        timeout: float,
        policy: RetryPolicy,
        pacer: IssueWritePacer,
        max_connections: int = 10,
        allow_private: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        random: Random = random_module.random,
        clock: Clock = time.monotonic,
        metrics: JiraMetrics | None = None,
        on_pause: PauseListener | None = None,
    ) -> None:
        self.policy = policy
        self.pacer = pacer
        self.quota = QuotaGate()
        self._on_pause = on_pause
        self._sleep = sleep
        self._random = random
        self._clock = clock
        self._metrics = metrics or default_metrics()
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = CookielessClient(
            base_url=base_url,
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=limits,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport
            or CheckedAddressTransport(allow_private=allow_private, limits=limits),
            follow_redirects=False,
        )
        self._host = self._http.base_url.host
        self._log = log.bind(jira=self._host)

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        write_to: str | None = None,
        retry_safe: bool | None = None,
    ) -> httpx.Response:
        """Send one call, retrying only where a repeat cannot double its effect."""
        safe = method in RETRY_SAFE_METHODS if retry_safe is None else retry_safe
        attempt = 0
        while True:
            await self._wait_out_quota_pause(method, path)
            if write_to is not None:
                wait = self.pacer.reserve(write_to, now=self._clock())
                if wait > 0:
                    await self._sleep(wait)
            started = time.perf_counter()
            try:
                response = await self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                self._metrics.observe(method, None, time.perf_counter() - started)
                sent = not isinstance(exc, NOT_SENT)
                if sent and not safe:
                    raise error_from_transport(
                        exc, method=method, path=path, ambiguous=True
                    ) from exc
                if attempt >= self.policy.max_retries or isinstance(exc, httpx.UnsupportedProtocol):
                    raise error_from_transport(
                        exc, method=method, path=path, ambiguous=False
                    ) from exc
                delay = self.policy.backoff(attempt, self._random)
                await self._wait_to_retry(method, path, type(exc).__name__, attempt, delay)
                attempt += 1
                continue

            status = response.status_code
            elapsed = time.perf_counter() - started
            self._metrics.observe(method, status, elapsed)
            self._log.debug(
                "jira.request",
                method=method,
                path=path,
                status=status,
                attempt=attempt + 1,
                ms=round(elapsed * 1000, 1),
            )
            if status < 300:
                return response
            if status == 429:
                delay = await self._after_rate_limit(response, attempt, method, path, write_to)
                if delay > 0:
                    await self._sleep(delay)
                attempt += 1
                continue
            if status >= 500 and safe and attempt < self.policy.max_retries:
                delay = self._server_error_delay(response, attempt)
                await self._wait_to_retry(method, path, status, attempt, delay)
                attempt += 1
                continue
            raise error_from_response(response, ambiguous=status >= 500 and not safe)

    async def _wait_to_retry(
        self, method: str, path: str, reason: str | int, attempt: int, delay: float
    ) -> None:
        self._log.warning(
            "jira.retry",
            method=method,
            path=path,
            reason=reason,
            attempt=attempt + 1,
            delay=round(delay, 3),
        )
        await self._sleep(delay)

    async def _wait_out_quota_pause(self, method: str, path: str) -> None:
        """Hold the call while a quota pause lasts; refuse it unsent when that is too long."""
        remaining = self.quota.remaining(now=self._clock())
        pause = self.quota.current
        if remaining <= 0 or pause is None:
            return
        if remaining > self.policy.max_retry_after:
            raise JiraRateLimited(
                f"Jira's quota is used up ({pause.reason}): calls to this Jira are paused for "
                f"another {remaining:.0f} s",
                retry_after=remaining,
                reason=pause.reason,
                status=429,
                method=method,
                path=path,
            )
        self._log.info("jira.quota_wait", method=method, path=path, wait=round(remaining, 3))
        await self._sleep(remaining)

    async def _after_rate_limit(
        self, response: httpx.Response, attempt: int, method: str, path: str, write_to: str | None
    ) -> float:
        """Seconds to sleep before retrying a 429 (0 when the issue's pacer or the quota pause
        holds the retry back), or raise `JiraRateLimited` when the caller should reschedule."""
        reason = response.headers.get("RateLimit-Reason")
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=datetime.now(UTC))
        delay = (
            retry_after
            if retry_after is not None
            else self.policy.rate_limit_backoff(attempt, self._random)
        )
        self._metrics.rate_limited.labels(reason=reason or "unknown").inc()
        self._log.warning(
            "jira.rate_limited",
            method=method,
            path=path,
            reason=reason,
            retry_after=round(delay, 3),
            attempt=attempt + 1,
            issue=write_to,
        )
        kind = rate_limit_kind(reason)
        paced = kind is RateLimitKind.PER_ISSUE and write_to is not None
        if paced:
            self.pacer.penalize(str(write_to), delay, now=self._clock())
        if kind is RateLimitKind.QUOTA:
            await self._pause_for_quota(str(reason), delay)
        if attempt >= self.policy.max_retries or delay > self.policy.max_retry_after:
            raise cast(
                JiraRateLimited, error_from_response(response, retry_after=delay, reason=reason)
            )
        return 0.0 if paced or kind is RateLimitKind.QUOTA else delay

    async def _pause_for_quota(self, reason: str, delay: float) -> None:
        started = self.quota.pause(reason, delay, now=self._clock())
        if started is None:
            return
        self._metrics.quota_pauses.labels(reason=reason).inc()
        self._metrics.paused_until.labels(host=self._host).set(time.time() + delay)
        self._log.warning("jira.quota_paused", reason=reason, seconds=round(delay, 3))
        if self._on_pause is not None:
            await self._on_pause(started)

    def _server_error_delay(self, response: httpx.Response, attempt: int) -> float:
        backoff = self.policy.backoff(attempt, self._random)
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=datetime.now(UTC))
        if retry_after is not None and retry_after <= self.policy.max_retry_after:
            return max(backoff, retry_after)
        return backoff


def response_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise unexpected_body(response, "Jira answered with a body that is not JSON") from None


def parse(model: type[ModelT], response: httpx.Response) -> ModelT:
    try:
        return model.model_validate(response_json(response))
    except ValidationError as exc:
        raise unexpected_body(response, f"Unexpected {model.__name__} shape") from exc


def parse_as(adapter: TypeAdapter[list[ModelT]], response: httpx.Response) -> list[ModelT]:
    try:
        return adapter.validate_python(response_json(response))
    except ValidationError as exc:
        raise unexpected_body(response, "Unexpected list shape") from exc
