"""The suite's own summary: a newcomer without Chromium is told, in one line, that the browser
tests did not run, whether the suite ran in one process or in several (`make test`: `-n`)."""

from __future__ import annotations

import pytest

from tests.conftest import CHROMIUM, browser_tests_note

LINE = f"browser tests not run: no {CHROMIUM} (apt-get install chromium)"


@pytest.mark.parametrize(
    ("chromium", "in_ci", "left_out", "note"),
    [
        (False, False, 17, f"17 {LINE}"),  # one process: it collected, and counts
        (False, False, None, LINE),  # the controller of `-n` workers: no count reaches it
        (False, False, 0, None),  # none selected
        (True, False, None, None),
        (False, True, None, None),  # CI installs Chromium and never leaves them out
    ],
)
def test_the_line_about_browser_tests_left_out(
    chromium: bool, in_ci: bool, left_out: int | None, note: str | None
) -> None:
    assert browser_tests_note(chromium, in_ci, left_out) == note
