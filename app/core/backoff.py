"""Waiting between attempts, one policy for every retry in the service: a Jira call, a job, the
database at start-up, a lost LISTEN connection, a job outcome the database could not take."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Jitter(StrEnum):
    NONE = "none"  # exactly the exponential step (one waiter, nobody to fall in step with)
    HALF = "half"  # between half of it and all of it: spread out, never much shorter
    FULL = "full"  # anywhere from 0 to all of it (many clients retrying one server)


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Attempt n (1, 2, …) waits up to min(cap, base * 2**(n-1)), jittered as asked."""

    base: float
    cap: float
    jitter: Jitter = Jitter.NONE

    def ceiling(self, attempt: int) -> float:
        return float(min(self.cap, self.base * 2.0 ** min(max(attempt - 1, 0), 62)))

    def delay(self, attempt: int, draw: Callable[[], float] = random.random) -> float:
        """`draw` returns a number in [0, 1) (tests pass a fixed one)."""
        ceiling = self.ceiling(attempt)
        if self.jitter is Jitter.FULL:
            return ceiling * draw()
        if self.jitter is Jitter.HALF:
            return ceiling / 2 + ceiling / 2 * draw()
        return ceiling


class Backoff:
    """Pauses that follow a policy, each cut short when the process stops (`stop` is set)."""

    def __init__(
        self, stop: asyncio.Event, policy: BackoffPolicy = BackoffPolicy(0.5, 10.0)
    ) -> None:
        self._stop = stop
        self._policy = policy
        self._attempt = 1

    @property
    def delay(self) -> float:
        return self._policy.delay(self._attempt)

    async def pause(self) -> None:
        """Wait the current delay (less if `stop` is set meanwhile); the next one is longer."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.delay)
        self._attempt += 1

    def reset(self) -> None:
        """After a success: the next failure starts again with the shortest pause."""
        self._attempt = 1
