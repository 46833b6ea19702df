"""Error answers the router produces itself: a 405 names every method its path takes."""

from __future__ import annotations

import re
from collections import defaultdict

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from app.main import create_app
from tests.support.api import parse_answer

EVERY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _methods_by_path() -> dict[str, set[str]]:
    """Each route path of the app, with a sample URL's methods: `{ID}` becomes 1."""
    methods: dict[str, set[str]] = defaultdict(set)
    for route in iter_route_contexts(create_app().router.routes):
        if route.path_format and route.methods:
            methods[re.sub(r"\{[^}]+\}", "1", route.path_format)] |= route.methods
    return methods


METHODS_BY_PATH = _methods_by_path()
EXPECTED = [
    ("PATCH", "/api/json/Tickets/1", "DELETE, GET, POST, PUT"),
    ("PATCH", "/api/xml/Tickets/1", "DELETE, GET, POST, PUT"),
    ("DELETE", "/api/json/Tickets", "GET, POST"),
    ("PUT", "/api/xml/TicketTypes", "GET, POST"),
    ("PATCH", "/api/json/TicketTypes/1", "DELETE, GET, PUT"),
    ("PUT", "/plugins/servlet/crm/api", "GET, POST"),
    ("GET", "/webhooks/helpdesk", "POST"),
]
EVERY_PATH = [
    (method, path, ", ".join(sorted(allowed)))
    for path, allowed in sorted(METHODS_BY_PATH.items())
    for method in [next(m for m in EVERY_METHOD if m not in allowed)]
]


class TestMethodNotAllowed:
    @pytest.mark.parametrize(("method", "path", "allow"), EXPECTED)
    async def test_allow_names_every_method_of_the_path(
        self, client: httpx.AsyncClient, method: str, path: str, allow: str
    ) -> None:
        answer = await client.request(method, path)

        assert answer.status_code == 405
        assert answer.headers["Allow"] == allow
        if path.startswith("/api/"):
            assert parse_answer(answer)["Error"]["Code"] == "MethodNotAllowed"

    @pytest.mark.parametrize(("method", "path", "allow"), EVERY_PATH, ids=lambda v: str(v))
    async def test_every_path_answers_405_with_its_methods(
        self, client: httpx.AsyncClient, method: str, path: str, allow: str
    ) -> None:
        answer = await client.request(method, path)

        assert answer.status_code == 405, answer.text[:300]
        assert answer.headers["Allow"] == allow

    def test_the_table_covers_both_formats_and_shared_paths(self) -> None:
        shared = {path for path, methods in METHODS_BY_PATH.items() if len(methods) > 2}
        assert {"/api/json/Tickets/1", "/api/xml/Tickets/1"} <= shared
