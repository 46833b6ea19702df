"""Fault rules: which requests get an error, a slow answer or a dropped connection."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

# The `RateLimit-Reason` values Jira Cloud sends with a 429.
BURST_LIMIT = "jira-burst-based"
PER_ISSUE_LIMIT = "jira-per-issue-on-write"
TENANT_QUOTA = "jira-quota-tenant-based"
GLOBAL_QUOTA = "jira-quota-global-based"

DEFAULT_MESSAGES = {
    429: "Rate limit exceeded.",
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class SimulatedDisconnect(httpx.RemoteProtocolError):
    """Raised by the simulator to drop a connection; clients see a transport error."""


@dataclass
class Fault:
    """Match `method` (or `*`) and `path` (regex, searched); act on the next `times` requests.

    `times=None` means every match, until `duration` seconds have passed (if given).
    Act: wait `delay` seconds, then answer `status` or drop the connection (`drop`); with
    `after_write` the request is applied first and only its answer is replaced.
    """

    method: str = "*"
    path: str = ".*"
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None
    rate_limit_reason: str | None = None
    delay: float = 0.0
    drop: bool = False
    after_write: bool = False
    times: int | None = 1
    duration: float | None = None
    id: int = 0
    hits: int = 0
    expires_at: float | None = None

    def replaces_answer(self) -> bool:
        return self.drop or self.status is not None

    def response_body(self) -> Any:
        if self.body is not None:
            return self.body
        status = self.status or 500
        message = DEFAULT_MESSAGES.get(status, f"Simulated error {status}")
        return {"errorMessages": [message], "errors": {}}

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.rate_limit_reason:
            headers["RateLimit-Reason"] = self.rate_limit_reason
        return headers

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultRegistry:
    """The active fault rules, first match wins."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        re.compile(fault.path)
        fault.id = next(self._ids)
        fault.method = fault.method.upper()
        if fault.duration is not None:
            fault.expires_at = time.monotonic() + fault.duration
        self.rules.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        before = len(self.rules)
        self.rules = [f for f in self.rules if f.id != fault_id]
        return len(self.rules) < before

    def clear(self) -> None:
        self.rules.clear()

    def match(self, method: str, path: str) -> Fault | None:
        now = time.monotonic()
        self.rules = [
            f
            for f in self.rules
            if (f.times is None or f.times > 0) and (f.expires_at is None or f.expires_at > now)
        ]
        for fault in self.rules:
            if fault.method not in ("*", method.upper()) or not re.search(fault.path, path):
                continue
            fault.hits += 1
            if fault.times is not None:
                fault.times -= 1
            return fault
        return None
