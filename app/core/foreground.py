"""Foreground work, which someone is waiting for (requests being answered), and background work
in the same process (`serve`'s in-process worker), which gives way to it. While requests keep
arriving, the worker runs one job at a time, and starts it only when the event loop turns
quickly: every job running beside the requests queues its steps ahead of theirs on the loop
(eight jobs, eight steps before each of a request's). With no request for a moment, it fills
every slot. In a burst the webhook route keeps answering at its own pace, and deliveries wait,
stored, for the worker, which applies those about one issue together when it comes to them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# One turn of the event loop taking longer than this means work is queued for it (a turn with
# nothing ready takes microseconds; a request's step or a job's, a fraction of a millisecond).
BUSY_TURN_SECONDS = 0.002
# Requests this close together are traffic: the worker keeps to one job at a time between them.
TRAFFIC_GAP_SECONDS = 0.1
JOBS_BESIDE_TRAFFIC = 1


async def loop_turn() -> float:
    """How long the event loop takes to come back to this task: the work queued ahead of it."""
    started = time.perf_counter()
    await asyncio.sleep(0)
    return time.perf_counter() - started


class Foreground:
    def __init__(
        self,
        busy_turn: float = BUSY_TURN_SECONDS,
        traffic_gap: float = TRAFFIC_GAP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.in_flight = 0
        self.busy_turn = busy_turn
        self.traffic_gap = traffic_gap
        self.clock = clock
        self.last_request = -traffic_gap

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Around answering one request."""
        self.in_flight += 1
        self.last_request = self.clock()
        try:
            yield
        finally:
            self.in_flight -= 1

    def traffic(self) -> bool:
        """A request is under way, or one began a moment ago (more are likely on the way)."""
        return bool(self.in_flight) or self.clock() - self.last_request < self.traffic_gap

    async def give_way(self, wanted: int, running: int) -> int:
        """How many of the `wanted` jobs background work may start now, with `running` under
        way: all of them without traffic; else one when none is running, once the loop turns
        quickly (the requests are waiting on I/O, not for the loop); else none (the job that
        ends asks again). Until then, the loop runs the requests."""
        if not self.traffic():
            return wanted
        if running >= JOBS_BESIDE_TRAFFIC:
            return 0
        while await loop_turn() > self.busy_turn:
            if not self.traffic():
                return wanted
        return min(wanted, JOBS_BESIDE_TRAFFIC - running)
