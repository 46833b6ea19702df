"""The instances' webhook credentials, kept in memory by the PostgreSQL inbox.

Reading them costs a database round trip on every delivery (a sixth of the ingest path). They
change rarely, and every change reaches every replica at once: a trigger on `jira_instances`
NOTIFYs `CHANNEL` with the instance's id when its secret or SyncActive changes or it is deleted
(an empty payload, on TRUNCATE, means all of them), and the entry is dropped. Nothing is kept
while the LISTEN connection is down (a notification could be missed), and no entry is older
than `max_age` seconds whatever happens.

A delivery that meets an entry in the milliseconds before its notification arrives is judged by
the previous values: a new secret is refused (401; Jira retries), a just-deactivated instance's
delivery is stored and then not applied (the apply job checks SyncActive again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.integration.inbound.inbox import InstanceAuth

# The migration's trigger keeps its own copy of this name.
CHANNEL = "jira_instances"


class WebhookCredentials:
    def __init__(self, max_age: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age
        self._clock = clock
        self._entries: dict[int, tuple[float, InstanceAuth]] = {}
        self._listening = False
        # Bumped by every change: a value read before a change is not kept after it.
        self._generation = 0
        self._next_change = asyncio.Event()

    @property
    def generation(self) -> int:
        """Take before reading an instance from the database; hand to `keep` with the result."""
        return self._generation

    def get(self, instance_id: int) -> InstanceAuth | None:
        entry = self._entries.get(instance_id)
        if entry is None:
            return None
        stored_at, auth = entry
        if self._clock() - stored_at > self._max_age:
            del self._entries[instance_id]
            return None
        return auth

    async def changed_since(self, generation: int) -> None:
        """Returns once a change (a notification, listening lost or restarted) came after
        `generation`."""
        while self._generation == generation:
            await self._next_change.wait()

    def keep(self, auth: InstanceAuth, read_at: int) -> None:
        """Keep what was read at generation `read_at`, unless something changed since."""
        if self._listening and read_at == self._generation:
            self._entries[auth.id] = (self._clock(), auth)

    def changed(self, payload: str) -> None:
        """A NOTIFY: the instance with this id changed."""
        self._next_generation()
        try:
            self._entries.pop(int(payload), None)
        except ValueError:
            self._entries.clear()

    def listening(self) -> None:
        self._next_generation()
        self._entries.clear()
        self._listening = True

    def lost(self) -> None:
        self._next_generation()
        self._listening = False
        self._entries.clear()

    @property
    def is_listening(self) -> bool:
        return self._listening

    def _next_generation(self) -> None:
        self._generation += 1
        self._next_change.set()
        self._next_change = asyncio.Event()

    def __contains__(self, instance_id: int) -> bool:
        return self.get(instance_id) is not None
