"""What the PostgreSQL inbox keeps of an instance's webhook credentials, and when it forgets."""

from __future__ import annotations

import asyncio

from app.integration.inbound.credentials import WebhookCredentials
from app.integration.inbound.inbox import InstanceAuth

OLD = InstanceAuth(1, True, "old-secret")
OTHER = InstanceAuth(2, True, "other-secret")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def listening_credentials(clock: Clock | None = None) -> WebhookCredentials:
    credentials = WebhookCredentials(max_age=30.0, clock=clock or Clock())
    credentials.listening()
    return credentials


def test_kept_while_listening_and_forgotten_when_notified() -> None:
    credentials = listening_credentials()
    credentials.keep(OLD, credentials.generation)
    credentials.keep(OTHER, credentials.generation)
    assert credentials.get(1) == OLD
    credentials.changed("1")
    assert credentials.get(1) is None
    assert credentials.get(2) == OTHER


def test_an_empty_payload_forgets_every_instance() -> None:
    credentials = listening_credentials()
    credentials.keep(OLD, credentials.generation)
    credentials.keep(OTHER, credentials.generation)
    credentials.changed("")
    assert 1 not in credentials
    assert 2 not in credentials


def test_nothing_is_kept_unless_listening() -> None:
    credentials = WebhookCredentials()
    credentials.keep(OLD, credentials.generation)
    assert credentials.get(1) is None
    credentials.listening()
    credentials.keep(OLD, credentials.generation)
    credentials.lost()
    assert credentials.get(1) is None
    credentials.keep(OLD, credentials.generation)
    assert credentials.get(1) is None


def test_a_value_read_before_a_change_is_not_kept_after_it() -> None:
    credentials = listening_credentials()
    read_at = credentials.generation
    credentials.changed("1")  # the notification overtook the slow read
    credentials.keep(OLD, read_at)
    assert credentials.get(1) is None


def test_no_entry_outlives_its_maximum_age() -> None:
    clock = Clock()
    credentials = listening_credentials(clock)
    credentials.keep(OLD, credentials.generation)
    clock.now += 30.0
    assert credentials.get(1) == OLD
    clock.now += 0.1
    assert credentials.get(1) is None


async def test_changed_since_returns_on_the_next_change() -> None:
    credentials = listening_credentials()
    before = credentials.generation
    waiting = asyncio.create_task(credentials.changed_since(before))
    await asyncio.sleep(0)
    assert not waiting.done()
    credentials.changed("7")
    await asyncio.wait_for(waiting, 5)
    await credentials.changed_since(before)  # already past: returns at once
