from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.jira.auth import AuthMethod
from app.jira.client import JiraClient
from app.jira.errors import JiraRateLimited
from app.jira.pacing import QuotaPause
from app.jira.pool import JiraClientPool, JiraConnection

CONNECTION = JiraConnection("https://a.atlassian.net", "sync@example.com", "token-1")


@dataclass
class PoolSettings:
    jira_timeout_seconds: float = 20.0
    jira_max_retries: int = 4
    jira_max_wait_seconds: float = 60.0
    allow_private_jira_hosts: bool = True
    worker_concurrency: int = 8


class RecordingPool:
    """A pool whose factory keeps every client it built."""

    def __init__(self) -> None:
        self.built: list[JiraClient] = []
        self.pool = JiraClientPool(self.build)

    def build(self, connection: JiraConnection, **overrides: Any) -> JiraClient:
        client = JiraClient(
            base_url=connection.base_url,
            user_name=connection.user_name,
            secret=connection.secret,
            auth_method=connection.auth_method,
            transport=httpx.MockTransport(lambda request: httpx.Response(200, json={})),
            **overrides,
        )
        self.built.append(client)
        return client


class HeldAnswers:
    """An HTTP server that answers no request until `wanted` of them are in at once."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.arrived = 0
        self.all_in = asyncio.Event()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.arrived += 1
        if self.arrived == self.wanted:
            self.all_in.set()
        await self.all_in.wait()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\n{}"
        )
        await writer.drain()
        writer.close()


@pytest.fixture
def recording() -> RecordingPool:
    return RecordingPool()


class TestJiraClientPool:
    async def test_one_client_per_instance(self, recording: RecordingPool) -> None:
        pool = recording.pool
        async with pool.lease(1, CONNECTION) as first:
            pass
        async with pool.lease(1, CONNECTION) as again, pool.lease(2, CONNECTION) as other:
            assert again is first
            assert other is not first
        assert len(pool) == 2
        await pool.aclose()
        assert all(client.is_closed for client in recording.built)

    async def test_changed_settings_rebuild_and_close_old_after_last_lease(
        self, recording: RecordingPool
    ) -> None:
        pool = recording.pool
        changed = JiraConnection(CONNECTION.base_url, "pat-user", "pat", AuthMethod.BEARER)
        async with pool.lease(1, CONNECTION) as old:
            async with pool.lease(1, changed) as new:
                assert new is not old
                assert not old.is_closed
            await old.myself()
        assert old.is_closed
        assert not new.is_closed
        await pool.aclose()

    async def test_discard_closes_the_client(self, recording: RecordingPool) -> None:
        pool = recording.pool
        async with pool.lease(1, CONNECTION) as client:
            pass
        await pool.discard(1)
        assert client.is_closed
        assert len(pool) == 0

    async def test_from_settings_uses_configured_retries(self) -> None:
        pool = JiraClientPool.from_settings(
            PoolSettings(jira_max_retries=2, jira_max_wait_seconds=5.0)
        )
        async with pool.lease(1, CONNECTION) as client:
            assert (client.policy.max_retries, client.policy.max_retry_after) == (2, 5.0)
        await pool.aclose()

    async def test_a_client_has_a_connection_for_each_of_the_workers_slots(self) -> None:
        slots = 16  # more than the 10 connections a client holds at least
        server = HeldAnswers(slots)
        listener = await asyncio.start_server(server.answer, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        pool = JiraClientPool.from_settings(PoolSettings(worker_concurrency=slots))
        connection = JiraConnection(f"http://127.0.0.1:{port}", "sync@example.com", "token-1")
        try:
            async with pool.lease(1, connection) as client:
                calls = asyncio.gather(*(client.myself() for _ in range(slots)))
                await asyncio.wait_for(calls, timeout=10)  # only a guard: all are in at once
        finally:
            await pool.aclose()
            listener.close()
        assert server.arrived == slots

    async def test_a_quota_pause_is_told_with_the_instances_id(self) -> None:
        told: list[tuple[int, QuotaPause]] = []

        async def listener(instance_id: int, pause: QuotaPause) -> None:
            told.append((instance_id, pause))

        def jira(request: httpx.Request) -> httpx.Response:
            headers = {"Retry-After": "600", "RateLimit-Reason": "jira-quota-tenant-based"}
            return httpx.Response(429, headers=headers)

        pool = JiraClientPool.from_settings(PoolSettings(), transport=httpx.MockTransport(jira))
        pool.on_pause = listener
        async with pool.lease(7, CONNECTION) as client:
            with pytest.raises(JiraRateLimited):
                await client.myself()
        await pool.aclose()
        assert [(ident, pause.reason) for ident, pause in told] == [(7, "jira-quota-tenant-based")]

    async def test_a_probe_is_its_own_client_without_retries_closed_after(self) -> None:
        pool = JiraClientPool.from_settings(PoolSettings(jira_max_retries=4))
        async with pool.lease(1, CONNECTION) as pooled, pool.probe(CONNECTION, timeout=3) as probe:
            assert probe is not pooled
            assert probe.policy.max_retries == 0
            assert pooled.policy.max_retries == 4
        assert probe.is_closed
        assert not pooled.is_closed
        await pool.aclose()

    def test_connection_repr_hides_the_secret(self) -> None:
        assert "token-1" not in repr(CONNECTION)
