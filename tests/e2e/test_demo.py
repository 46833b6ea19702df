"""`make demo` works as shipped: the script runs the whole loop and reports each step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_the_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for step in (
        "created and linked",
        "comment on DEMO-1",
        "ticket status is now In Progress",
        "new action from John Doe: 'Fixed in build 4711.'",
        "The receiver accepted the event (HTTP 200).",
        "ticket.updated, signature verified: Status To Do -> In Progress",
        "action.created, signature verified: 'Fixed in build 4711.'",
    ):
        assert step in result.stdout
