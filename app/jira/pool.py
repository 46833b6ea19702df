"""One `JiraClient` per Jira instance, built from credentials handed in already decrypted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from app.jira.auth import AuthMethod
from app.jira.client import JiraClient
from app.jira.http import PauseListener
from app.jira.pacing import QuotaPause

# What Jira calls go through instead of the network, if given (tests: an in-process simulator).
JiraTransport = httpx.AsyncBaseTransport
InstancePauseListener = Callable[[int, QuotaPause], Awaitable[None]]
# Connections a client may hold open to its Jira, at least; more when the worker runs more jobs
# at once, so that no job's call waits for another's connection (at 150 ms a call, 10
# connections would cap a worker at ~65 calls/s whatever its concurrency).
MIN_CONNECTIONS = 10


@dataclass(frozen=True, slots=True)
class JiraConnection:
    """What a client is built from; a change means a new client."""

    base_url: str
    user_name: str
    secret: str = field(repr=False)
    auth_method: AuthMethod = AuthMethod.BASIC


class ClientFactory(Protocol):
    """Builds a client; `overrides` are JiraClient options (e.g. `timeout`, `max_retries`)."""

    def __call__(self, connection: JiraConnection, **overrides: Any) -> JiraClient: ...


class JiraSettings(Protocol):
    """The part of `app.core.settings.Settings` the pool reads."""

    @property
    def jira_timeout_seconds(self) -> float: ...

    @property
    def jira_max_retries(self) -> int: ...

    @property
    def jira_max_wait_seconds(self) -> float: ...

    @property
    def allow_private_jira_hosts(self) -> bool: ...

    @property
    def worker_concurrency(self) -> int: ...


@dataclass(slots=True)
class _Entry:
    connection: JiraConnection
    client: JiraClient
    leases: int = 0
    retired: bool = False


class JiraClientPool:
    """Created in the app's lifespan, closed on shutdown, injected where Jira is called.

    `lease` hands out the instance's client; when the instance's connection settings change,
    the next lease gets a new client and the old one is closed once its last lease ends, so
    calls in flight are never cut off.
    """

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory
        # Told, with the instance's id, when a quota 429 pauses every call to its Jira.
        self.on_pause: InstancePauseListener | None = None
        self._entries: dict[int, _Entry] = {}
        self._retired: list[_Entry] = []

    @classmethod
    def from_settings(cls, settings: JiraSettings, **client_options: Any) -> JiraClientPool:
        """A pool whose clients use the configured timeout and retries (plus `client_options`)."""

        def build(connection: JiraConnection, **overrides: Any) -> JiraClient:
            options: dict[str, Any] = {
                "timeout": settings.jira_timeout_seconds,
                "max_retries": settings.jira_max_retries,
                "max_retry_after": settings.jira_max_wait_seconds,
                "allow_private": settings.allow_private_jira_hosts,
                "max_connections": max(MIN_CONNECTIONS, settings.worker_concurrency),
                **client_options,
                **overrides,
            }
            return JiraClient(
                base_url=connection.base_url,
                user_name=connection.user_name,
                secret=connection.secret,
                auth_method=connection.auth_method,
                **options,
            )

        return cls(build)

    @asynccontextmanager
    async def lease(
        self, instance_id: int, connection: JiraConnection
    ) -> AsyncIterator[JiraClient]:
        entry = self._entry(instance_id, connection)
        entry.leases += 1
        for idle in [old for old in self._retired if old.leases == 0]:
            await self._close(idle)
        try:
            yield entry.client
        finally:
            entry.leases -= 1
            if entry.retired and entry.leases == 0:
                await self._close(entry)

    @asynccontextmanager
    async def probe(
        self, connection: JiraConnection, *, timeout: float
    ) -> AsyncIterator[JiraClient]:
        """A client of its own for an interactive check: each call tried once, with `timeout`;
        closed afterwards. Unlike `lease`, nothing is retried behind the caller's back."""
        client = self._factory(connection, timeout=timeout, max_retries=0)
        try:
            yield client
        finally:
            await client.aclose()

    async def discard(self, instance_id: int) -> None:
        """Forget the instance's client (instance deleted or deactivated)."""
        entry = self._entries.pop(instance_id, None)
        if entry is not None:
            await self._retire(entry)

    async def aclose(self) -> None:
        entries = [*self._entries.values(), *self._retired]
        self._entries.clear()
        self._retired.clear()
        for entry in entries:
            await entry.client.aclose()

    def __len__(self) -> int:
        return len(self._entries)

    def _entry(self, instance_id: int, connection: JiraConnection) -> _Entry:
        entry = self._entries.get(instance_id)
        if entry is not None and entry.connection == connection:
            return entry
        if entry is not None:
            entry.retired = True
            self._retired.append(entry)
        new = _Entry(connection, self._factory(connection, on_pause=self._listener(instance_id)))
        self._entries[instance_id] = new
        return new

    def _listener(self, instance_id: int) -> PauseListener | None:
        listener = self.on_pause
        if listener is None:
            return None

        async def paused(pause: QuotaPause) -> None:
            await listener(instance_id, pause)

        return paused

    async def _retire(self, entry: _Entry) -> None:
        entry.retired = True
        if entry.leases == 0:
            await entry.client.aclose()
        else:
            self._retired.append(entry)

    async def _close(self, entry: _Entry) -> None:
        if entry in self._retired:
            self._retired.remove(entry)
        await entry.client.aclose()
