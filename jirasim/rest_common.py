"""Helpers shared by the REST routers."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from jirasim.errors import JiraError

MAX_RESULTS_CAP = 100


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise JiraError(400, "No content to map to Object due to end of input")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise JiraError(400, f"Unexpected character in JSON: {exc}") from None


async def read_object(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise JiraError(400, "Can not deserialize instance of object out of START_ARRAY token")
    return body


def paging(
    start_at: int, max_results: int | None, default: int = 50, cap: int = 5000
) -> tuple[int, int]:
    if start_at < 0:
        raise JiraError(400, "The 'startAt' parameter must not be negative.")
    size = default if max_results is None else max_results
    return start_at, max(0, min(size, cap))


def split_csv(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    parts = value if isinstance(value, list) else value.split(",")
    return [p.strip() for p in parts if p and p.strip()]


def field_selection(all_ids: list[str], spec: list[str], default: str) -> list[str]:
    """Jira's `fields` parameter: ids, `*all`, `*navigable`, `-id` to leave one out."""
    spec = spec or [default]
    chosen: list[str] = []
    for item in spec:
        if item == "*all":
            chosen += all_ids
        elif item == "*navigable":
            chosen += [f for f in all_ids if f != "comment"]
        elif not item.startswith("-") and item in all_ids:
            chosen.append(item)
    excluded = {item[1:] for item in spec if item.startswith("-")}
    return [f for f in dict.fromkeys(chosen) if f not in excluded]
