"""A schemathesis run over the whole exported OpenAPI spec, over real HTTP, with all its checks and
all its phases (examples, coverage, fuzzing, and stateful: following the spec's links from each
create to the operations on what it created): generated requests, valid and invalid, never get a
5xx, valid ones are accepted and invalid ones refused, and every answer matches the spec.

`tests/fuzz/checks.py` says how two of the checks are judged here; the command it runs is the one
a developer runs by hand (printed on failure)."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import API_TOKEN, SECRET_KEY
from tests.support.database import DatabaseReset
from tests.support.live import LiveService, free_port, live_service, service_env

ROOT = Path(__file__).resolve().parents[2]
# Bounded so that the run takes about a minute on two cores.
MAX_EXAMPLES = 5
SEED = 1


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


def schemathesis_command(base_url: str, report_dir: Path) -> list[str]:
    return [
        str(Path(sys.executable).with_name("st")),
        "run",
        str(ROOT / "openapi" / "openapi.json"),
        f"--url={base_url}",
        f"--header=Authorization: Bearer {API_TOKEN}",
        "--checks=all",
        "--exclude-checks=positive_data_acceptance,negative_data_rejection",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--generation-database=none",
        "--request-timeout=10",
        "--suppress-health-check=all",
        "--no-color",
        f"--report-dir={report_dir}",
    ]


@pytest.mark.fuzz
@pytest.mark.e2e
async def test_a_schemathesis_run_with_every_check_finds_nothing(
    fuzz_service: LiveService, tmp_path: Path
) -> None:
    command = schemathesis_command(fuzz_service.base_url, tmp_path)
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.checks", "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, f"{shlex.join(command)}\n\n{report}"
