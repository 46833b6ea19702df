"""Background work in `serve` gives way to the requests under way: it starts jobs only when the
event loop turns quickly, one at a time, and all it wants when no request is under way."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.core.foreground import BUSY_TURN_SECONDS, Foreground, loop_turn

STEP_SECONDS = 4 * BUSY_TURN_SECONDS


def spin(seconds: float) -> None:
    """Hold the event loop (a request's CPU-bound step)."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


async def hold_the_loop(steps: int, order: list[str]) -> None:
    for _ in range(steps):
        spin(STEP_SECONDS)
        await asyncio.sleep(0)
    order.append("requests done")


async def test_a_loop_turn_with_nothing_queued_is_quick_and_one_behind_work_is_not() -> None:
    assert await loop_turn() < BUSY_TURN_SECONDS
    hog = asyncio.create_task(hold_the_loop(3, []))
    await asyncio.sleep(0)  # the hog starts its first step
    assert await loop_turn() >= STEP_SECONDS
    await hog


async def test_with_no_request_under_way_everything_wanted_starts_whatever_the_loop_does() -> None:
    foreground = Foreground()
    hog = asyncio.create_task(hold_the_loop(3, []))
    assert await foreground.give_way(8) == 8
    await hog


async def test_with_a_request_waiting_on_io_one_job_starts_at_once() -> None:
    foreground = Foreground()
    with foreground.serving():
        assert foreground.in_flight == 1
        assert await foreground.give_way(8) == 1
    assert foreground.in_flight == 0


async def test_while_requests_hold_the_loop_nothing_starts_until_they_let_go() -> None:
    foreground = Foreground()
    order: list[str] = []

    async def request() -> None:
        with foreground.serving():
            await hold_the_loop(5, order)

    served = asyncio.create_task(request())
    await asyncio.sleep(0)  # the request is under way
    assert await foreground.give_way(8) in (1, 8)
    order.append("job starts")
    await served
    assert order == ["requests done", "job starts"]


async def test_a_request_that_fails_is_no_longer_counted() -> None:
    foreground = Foreground()
    with pytest.raises(RuntimeError), foreground.serving():
        raise RuntimeError("the handler failed")
    assert foreground.in_flight == 0
