"""The layout as `docs/ARCHITECTURE.md` draws it: the map names files that exist, each main flow
reads in at most six files, and no module is a grab bag. (The layer contracts are import-linter's,
checked by `make lint`.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
CITED_PATH = re.compile(r"`(app/[\w/.]+)`")
MOST_LINES_IN_A_MODULE = 400


def flow(title: str) -> str:
    start = ARCHITECTURE.index(f"## {title}")
    return ARCHITECTURE[start : ARCHITECTURE.index("\n## ", start + 1)]


def test_the_map_names_only_files_that_exist() -> None:
    cited = set(CITED_PATH.findall(ARCHITECTURE))
    assert len(cited) > 20
    assert [path for path in sorted(cited) if not (ROOT / path).exists()] == []


@pytest.mark.parametrize(
    "title",
    [
        "Flow 1: a Jira status change reaching a ticket",
        "Flow 2: a ticket action becoming a Jira comment",
        "Flow 3: a Jira change reaching the helpdesk's receiver",
    ],
)
def test_each_main_flow_reads_in_at_most_six_files(title: str) -> None:
    steps = re.findall(r"^\d+\. `(app/[\w/.]+\.py)`", flow(title), flags=re.MULTILINE)
    assert 3 <= len(set(steps)) <= 6
    assert all((ROOT / step).is_file() for step in steps)


def test_no_module_is_a_grab_bag() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in (ROOT / "app").rglob("*.py")
    }
    assert {path: n for path, n in sizes.items() if n > MOST_LINES_IN_A_MODULE} == {}
