"""`.ci/run` refuses to pass without PostgreSQL: database tests are never silently skipped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_ci_fails_before_any_test_when_postgresql_is_unreachable() -> None:
    nobody_listens = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEST_")}
    env.update(CI_POSTGRES_URL=nobody_listens, CI_START_POSTGRES="0")
    result = subprocess.run(
        [str(ROOT / ".ci" / "run")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"CI needs PostgreSQL at {nobody_listens}; failing." in result.stderr
    assert "== tests" not in result.stdout
