"""Wrong API tokens at the console's sign-in are slowed down: after a few failures from one
client, each further try waits, twice as long after each new failure (capped). In memory, per
process: enough to make guessing a 32-character token hopeless."""

from __future__ import annotations

from dataclasses import dataclass

MAX_TRACKED_CLIENTS = 10_000


@dataclass
class _Failures:
    count: int
    last: float


class SignInThrottle:
    def __init__(
        self, free_failures: int = 5, lockout_seconds: float = 30.0, max_lockout: float = 3600.0
    ) -> None:
        self.free_failures = free_failures
        self.lockout_seconds = lockout_seconds
        self.max_lockout = max_lockout
        self._failures: dict[str, _Failures] = {}

    def wait(self, client: str, now: float) -> float:
        """Seconds the client must wait before trying again (0: it may try now)."""
        failures = self._failures.get(client)
        if failures is None or failures.count < self.free_failures:
            return 0.0
        extra = failures.count - self.free_failures
        lockout = min(self.max_lockout, self.lockout_seconds * float(2**extra))
        return max(0.0, failures.last + lockout - now)

    def failed(self, client: str, now: float) -> None:
        if len(self._failures) >= MAX_TRACKED_CLIENTS and client not in self._failures:
            self._forget_oldest()
        failures = self._failures.setdefault(client, _Failures(0, now))
        failures.count += 1
        failures.last = now

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _forget_oldest(self) -> None:
        oldest = min(self._failures, key=lambda client: self._failures[client].last)
        del self._failures[oldest]
