"""The NOTIFY sent after commits, from a connection of its own: names given together go out in
one notification, nothing given is lost to a stop or a lost connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from app.core.db import asyncpg_dsn
from app.core.notify import Notifier

pytestmark = pytest.mark.postgres

CHANNEL = "test_notify"
Heard = asyncio.Queue[tuple[int, str]]


@asynccontextmanager
async def listening(database_url: str) -> AsyncIterator[tuple[asyncpg.Connection, Heard]]:
    """A connection LISTENing on CHANNEL, and what it hears: (sender's pid, payload)."""
    heard: Heard = asyncio.Queue()
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.add_listener(
            CHANNEL, lambda _conn, pid, _channel, payload: heard.put_nowait((pid, payload))
        )
        yield connection, heard
    finally:
        await connection.close()


@asynccontextmanager
async def running(notifier: Notifier) -> AsyncIterator[None]:
    task = asyncio.create_task(notifier.run())
    try:
        yield
    finally:
        notifier.stop()
        await asyncio.wait_for(task, 10)


async def next_heard(heard: Heard) -> tuple[int, str]:
    return await asyncio.wait_for(heard.get(), 10)


async def test_names_given_before_it_sends_go_out_together_from_its_sender(
    database_url: str,
) -> None:
    async with listening(database_url) as (_, heard):
        notifier = Notifier(database_url, CHANNEL)
        notifier.send(["b"])
        notifier.send(["a", "b"])
        async with running(notifier):
            pid, payload = await next_heard(heard)
            assert (pid, payload) == (notifier.sender, "a,b")
            notifier.send(["c"])
            assert (await next_heard(heard))[1] == "c"
        assert heard.empty()
        assert notifier.sender is None  # its connection is closed once it stops


async def test_what_was_given_before_the_stop_is_still_sent(database_url: str) -> None:
    async with listening(database_url) as (_, heard):
        notifier = Notifier(database_url, CHANNEL)
        async with running(notifier):
            notifier.send(["last"])
        assert (await next_heard(heard))[1] == "last"


async def test_a_lost_connection_is_opened_again_and_what_was_given_is_sent(
    database_url: str,
) -> None:
    async with listening(database_url) as (listener, heard):
        notifier = Notifier(database_url, CHANNEL)
        async with running(notifier):
            notifier.send(["first"])
            first_sender, _ = await next_heard(heard)
            await listener.execute("SELECT pg_terminate_backend($1)", first_sender)
            notifier.send(["second"])
            second_sender, payload = await next_heard(heard)
        assert payload == "second"
        assert second_sender != first_sender
