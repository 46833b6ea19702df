"""Foreground work, which someone is waiting for (requests being answered), and background work
in the same process (`serve`'s in-process worker), which gives way to it. While a request is
under way, the worker starts a job only when the event loop turns quickly, and one at a time:
each job it adds slows the loop's turn, so it stops adding them while the requests need the
loop. In a burst the webhook route keeps answering at its own pace, and deliveries wait, stored,
for the worker. (Under a long overload the route still slows while the worker applies: the
README's figure 7 measures it; a worker process of its own avoids it.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

# One turn of the event loop taking longer than this means work is queued for it (a turn with
# nothing ready takes microseconds; a request's step or a job's, a fraction of a millisecond).
BUSY_TURN_SECONDS = 0.002


async def loop_turn() -> float:
    """How long the event loop takes to come back to this task: the work queued ahead of it."""
    started = time.perf_counter()
    await asyncio.sleep(0)
    return time.perf_counter() - started


class Foreground:
    def __init__(self, busy_turn: float = BUSY_TURN_SECONDS) -> None:
        self.in_flight = 0
        self.busy_turn = busy_turn

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Around answering one request."""
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def give_way(self, wanted: int) -> int:
        """How many of the `wanted` jobs background work may start now: all of them while no
        request is under way; else one, once the loop turns quickly (the requests are waiting
        on I/O, not for the loop). Until then, the loop runs the requests."""
        if not self.in_flight:
            return wanted
        while await loop_turn() > self.busy_turn:
            if not self.in_flight:
                return wanted
        return min(wanted, 1)
