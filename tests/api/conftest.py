"""The `api` fixture: every API test runs once in JSON and once in XML."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import FORMATS, HelpdeskApi


@pytest.fixture(params=FORMATS)
def fmt(request: pytest.FixtureRequest) -> str:
    format_name: str = request.param
    return format_name


@pytest.fixture
def api(client: httpx.AsyncClient, fmt: str) -> HelpdeskApi:
    return HelpdeskApi(client, fmt)
