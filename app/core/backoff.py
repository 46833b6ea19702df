"""Waiting between attempts at something that is down (the database at start-up, a lost LISTEN
connection): pauses that double up to a cap, each cut short when the process stops."""

from __future__ import annotations

import asyncio
import contextlib


class Backoff:
    def __init__(self, stop: asyncio.Event, first: float = 0.5, cap: float = 10.0) -> None:
        self._stop = stop
        self._first = first
        self._cap = cap
        self.delay = first

    async def pause(self) -> None:
        """Wait `delay` seconds (less if `stop` is set meanwhile), then double it up to the cap."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.delay)
        self.delay = min(self.delay * 2, self._cap)

    def reset(self) -> None:
        """After a success: the next failure starts again with the shortest pause."""
        self.delay = self._first
