"""Wrong sign-in tokens are slowed down: free tries, then a wait that doubles."""

from __future__ import annotations

from app.console.throttle import SignInThrottle


def test_a_few_wrong_tokens_cost_nothing() -> None:
    throttle = SignInThrottle(free_failures=3, lockout_seconds=10)
    for _ in range(2):
        throttle.failed("a", 100.0)
    assert throttle.wait("a", 100.0) == 0.0


def test_then_each_further_failure_doubles_the_wait() -> None:
    throttle = SignInThrottle(free_failures=3, lockout_seconds=10)
    for _ in range(3):
        throttle.failed("a", 100.0)
    assert throttle.wait("a", 100.0) == 10.0
    assert throttle.wait("a", 104.0) == 6.0
    assert throttle.wait("a", 110.0) == 0.0
    throttle.failed("a", 110.0)
    assert throttle.wait("a", 110.0) == 20.0


def test_the_wait_is_capped() -> None:
    throttle = SignInThrottle(free_failures=1, lockout_seconds=10, max_lockout=60)
    for _ in range(20):
        throttle.failed("a", 0.0)
    assert throttle.wait("a", 0.0) == 60.0


def test_clients_are_counted_apart_and_a_success_forgives() -> None:
    throttle = SignInThrottle(free_failures=1, lockout_seconds=10)
    throttle.failed("a", 0.0)
    assert throttle.wait("b", 0.0) == 0.0
    throttle.succeeded("a")
    assert throttle.wait("a", 0.0) == 0.0
