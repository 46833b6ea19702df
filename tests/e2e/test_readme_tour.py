"""The README's curl tour, run exactly as written against the real service, so it cannot rot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest

from tests.conftest import API_TOKEN, SECRET_KEY
from tests.support.live import LiveService, free_port, live_service, service_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("curl") is None, reason="the tour needs curl"),
]

README = Path(__file__).resolve().parents[2] / "README.md"
BASE_LINE = "BASE=http://127.0.0.1:8080"


def tour_blocks(markdown: str) -> list[str]:
    """The ```sh blocks of the "A short tour" section, in order."""
    section = markdown.split("\n## A short tour\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[str]:
    """One entry per shell command (backslash-continued lines joined)."""
    return [c.strip() for c in re.split(r"(?<!\\)\n", block.strip()) if c.strip()]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[LiveService]:
    """`python -m app serve` on a free port, SQLite in a temp dir; `.env` holds the token."""
    port = free_port()
    (tmp_path / ".env").write_text(f"API_TOKEN={API_TOKEN}\nSECRET_KEY={SECRET_KEY}\n")
    database = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'helpdesk.db'}"
    env = service_env(database, port, API_TOKEN, SECRET_KEY, RUN_WORKER="false")
    async with live_service(env, tmp_path) as live:
        yield live


async def test_the_tour_works_as_written(service: LiveService, tmp_path: Path) -> None:
    blocks = tour_blocks(README.read_text())
    assert len(blocks) >= 4, "the README tour has lost its curl blocks"
    preamble, *steps = blocks
    assert BASE_LINE in preamble.splitlines(), f"the tour must define {BASE_LINE!r}"
    assert "TOKEN=" in preamble
    preamble = preamble.replace(BASE_LINE, f"BASE={service.base_url}")

    outputs: list[str] = []
    for step in steps:
        for command in commands(step):
            assert command.startswith("curl "), command
            done = subprocess.run(
                ["bash", "-c", f"set -euo pipefail\n{preamble}\n{command}"],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert done.returncode == 0, (
                f"README command failed:\n{command}\n{done.stderr}\n{done.stdout}\n"
                f"{service.log()[-2000:]}"
            )
            outputs.append(done.stdout)

    assert len(outputs) >= 12
    closed = json.loads(outputs[-2])["Tickets"]
    assert [(t["Name"], t["Status"], t["IsClosed"]) for t in closed] == [
        ("Printer on fire", "Closed", True)
    ]
    history = [item.findtext("Description") for item in fromstring(outputs[-1].encode())]
    assert history == ["Ticket created by me", "Status changed from New to Closed by me"]
