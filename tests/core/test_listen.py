"""The LISTEN loop and its backoff: stopping is immediate, whatever the database is doing."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.core.backoff import Backoff, BackoffPolicy
from app.core.db import asyncpg_dsn
from app.core.listen import listen_forever


async def test_a_connect_to_a_database_that_never_answers_ends_when_stopped() -> None:
    """A host that accepts the connection and then says nothing (asyncpg would wait a minute)."""
    reached = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        reached.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    lost: list[bool] = []
    listening = asyncio.create_task(
        listen_forever(
            f"postgresql+asyncpg://sync@127.0.0.1:{port}/helpdesk",
            "jira_instances",
            lambda _payload: None,
            stop,
            on_lost=lambda: lost.append(True),
        )
    )
    try:
        async with asyncio.timeout(10):
            await reached.wait()
            stop.set()
            await listening
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert lost == []  # it never listened, so nothing was lost


async def test_backoff_doubles_to_its_cap_resets_and_ends_a_pause_when_stopped() -> None:
    stop = asyncio.Event()
    backoff = Backoff(stop, BackoffPolicy(0.001, 0.004))
    delays = []
    for _ in range(4):
        delays.append(backoff.delay)
        await backoff.pause()
    assert delays == [0.001, 0.002, 0.004, 0.004]
    backoff.reset()
    assert backoff.delay == 0.001
    stop.set()
    long = Backoff(stop, BackoffPolicy(3600, 3600))
    async with asyncio.timeout(5):
        await long.pause()


@pytest.mark.postgres
async def test_notifications_from_its_own_sender_are_not_heard(database_url: str) -> None:
    """The process's own notifier tells other processes what this one knew first."""
    own = await asyncpg.connect(asyncpg_dsn(database_url))
    other = await asyncpg.connect(asyncpg_dsn(database_url))
    heard: asyncio.Queue[str] = asyncio.Queue()
    started = asyncio.Event()
    stop = asyncio.Event()
    listener = asyncio.create_task(
        listen_forever(
            database_url,
            "test_listen",
            heard.put_nowait,
            stop,
            on_listening=started.set,
            own_sender=own.get_server_pid,
        )
    )
    try:
        await asyncio.wait_for(started.wait(), 10)
        await own.execute("SELECT pg_notify('test_listen', 'own')")
        await other.execute("SELECT pg_notify('test_listen', 'other')")
        # Notifications arrive in commit order: 'own' would have come first.
        assert await asyncio.wait_for(heard.get(), 10) == "other"
    finally:
        stop.set()
        await listener
        await own.close()
        await other.close()
