"""The one backoff policy: exponential steps, capped, jittered as asked."""

from __future__ import annotations

import asyncio

import pytest

from app.core.backoff import Backoff, BackoffPolicy, Jitter


@pytest.mark.parametrize(
    ("policy", "attempt", "draw", "expected"),
    [
        (BackoffPolicy(0.5, 10.0), 1, 0.3, 0.5),
        (BackoffPolicy(0.5, 10.0), 2, 0.3, 1.0),
        (BackoffPolicy(0.5, 10.0), 5, 0.3, 8.0),
        (BackoffPolicy(0.5, 10.0), 6, 0.3, 10.0),  # capped
        (BackoffPolicy(0.5, 10.0), 10_000, 0.3, 10.0),  # no overflow however many attempts
        (BackoffPolicy(1.0, 60.0, Jitter.FULL), 3, 0.0, 0.0),
        (BackoffPolicy(1.0, 60.0, Jitter.FULL), 3, 0.5, 2.0),
        (BackoffPolicy(1.0, 60.0, Jitter.HALF), 3, 0.0, 2.0),
        (BackoffPolicy(1.0, 60.0, Jitter.HALF), 3, 0.5, 3.0),
        (BackoffPolicy(1.0, 60.0, Jitter.HALF), 3, 0.999, 3.998),
    ],
)
def test_delay(policy: BackoffPolicy, attempt: int, draw: float, expected: float) -> None:
    assert policy.delay(attempt, lambda: draw) == pytest.approx(expected)


async def test_pauses_grow_and_start_again_after_a_success() -> None:
    backoff = Backoff(asyncio.Event(), BackoffPolicy(0.001, 0.004))
    seen = []
    for _ in range(4):
        seen.append(backoff.delay)
        await backoff.pause()
    backoff.reset()
    assert seen == [0.001, 0.002, 0.004, 0.004]
    assert backoff.delay == 0.001
