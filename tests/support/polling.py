"""Waiting on another process: poll a condition at a short interval up to a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "condition",
) -> T:
    """Call `probe` until `done(result)`; the last result is in the error when time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if loop.time() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout}s; last: {result!r}")
        await asyncio.sleep(interval)
