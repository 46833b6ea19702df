"""Schemathesis against the exported OpenAPI spec, over real HTTP: for every operation, generated
requests (valid and invalid) never get a 5xx, and every answer matches the spec."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import API_TOKEN, SECRET_KEY
from tests.support.database import DatabaseReset
from tests.support.live import LiveService, free_port, live_service, service_env

ROOT = Path(__file__).resolve().parents[2]
schema = schemathesis.openapi.from_path(ROOT / "openapi" / "openapi.json")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# XML carries no JSON types (an empty element is how XML says null), so "schema-violating data
# must be refused" is only meaningful for JSON bodies.
JSON_CHECKS = [*CHECKS, negative_data_rejection]


@pytest.fixture(scope="module")
async def fuzz_service(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, database_reset: DatabaseReset
) -> AsyncIterator[LiveService]:
    """The cases run against the seed data alone: whatever an earlier test in this pytest worker
    left (an instance pointing at a Jira host that is long gone) would make them depend on the
    order xdist happened to choose."""
    await database_reset.reset()
    port = free_port()
    # A generated HostName may name a host whose lookup hangs on this network: an instance's
    # Test gives up well inside the cases' 10 s client timeout.
    env = service_env(
        database_url,
        port,
        API_TOKEN,
        SECRET_KEY,
        RUN_WORKER="false",
        JIRA_TEST_TIMEOUT_SECONDS="2",
    )
    async with live_service(env, tmp_path_factory.mktemp("fuzz")) as service:
        yield service


@pytest.mark.fuzz
@pytest.mark.e2e
@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_per_spec(case: Any, fuzz_service: LiveService) -> None:
    case.call_and_validate(
        base_url=fuzz_service.base_url,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        checks=CHECKS if case.path.startswith("/api/xml/") else JSON_CHECKS,
        timeout=10,
    )
