"""The record of requests the simulator received, for tests to assert on."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class RecordedRequest:
    id: int
    method: str
    path: str
    query: dict[str, str]
    query_string: str
    headers: dict[str, str]
    body: str
    json: Any
    auth_scheme: str | None
    auth_user: str | None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: int | None = None
    fault_id: int | None = None
    dropped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "queryString": self.query_string,
            "headers": self.headers,
            "body": self.body,
            "json": self.json,
            "authScheme": self.auth_scheme,
            "authUser": self.auth_user,
            "at": self.at.isoformat(),
            "status": self.status,
            "faultId": self.fault_id,
            "dropped": self.dropped,
        }


class RequestLog:
    def __init__(self) -> None:
        self.entries: list[RecordedRequest] = []
        self._ids = itertools.count(1)

    def start(
        self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> RecordedRequest:
        text = body.decode("utf-8", errors="replace")
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = None
        scheme, user = auth_of(headers.get("authorization"))
        entry = RecordedRequest(
            id=next(self._ids),
            method=method,
            path=path,
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            query_string=query_string,
            headers=headers,
            body=text,
            json=parsed,
            auth_scheme=scheme,
            auth_user=user,
        )
        self.entries.append(entry)
        return entry

    def clear(self) -> None:
        self.entries.clear()


def auth_of(header: str | None) -> tuple[str | None, str | None]:
    """The scheme of an Authorization header, and the Basic user name."""
    if not header:
        return None, None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip()).decode()
        except ValueError:
            return "Basic", None
        return "Basic", decoded.partition(":")[0]
    return scheme.capitalize(), None
