"""`make bench` reports the service as it ships beside the tuned configuration, each against the
bare endpoint of the same run, with applied throughput and the CPU per applied delivery; the
committed results are a full run's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bench import report

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.json"


def _numeric_keys(pairs: list[tuple[str, Any]]) -> dict[Any, Any]:
    """JSON keeps the run's numeric keys (worker counts, concurrencies) as strings."""
    return {int(key) if key.isdigit() else key: value for key, value in pairs}


def committed_results() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(RESULTS.read_text(), object_pairs_hook=_numeric_keys)
    return document


def test_the_committed_results_are_a_full_run_with_the_table_they_print() -> None:
    document = committed_results()
    assert document["quick"] is False
    assert document["table"] == report.table(document["figures"])


def test_the_table_leads_with_the_defaults_beside_tuned_and_bare_from_the_same_run() -> None:
    figures = committed_results()["figures"]
    ingest = figures["webhook_ingest"]
    measured = {row.figure: row.value for row in report.rows(figures)}
    first = next(iter(measured))
    assert "as shipped" in first
    bare = ingest["bare"]["saturation"]["throughput"]
    ratios = measured["1. Ratio to bare: as shipped / tuned"]
    assert ratios == (
        f"{ingest['defaults']['saturation']['throughput'] / bare:.2f} / "
        f"{ingest['tuned']['saturation']['throughput'] / bare:.2f}"
    )


def test_the_table_reports_applied_throughput_and_cpu_per_applied_delivery() -> None:
    figures = committed_results()["figures"]
    applied = figures["applied"]
    measured = {row.figure: row.value for row in report.rows(figures)}
    shipped = next(value for name, value in measured.items() if name.startswith("7. Applied, as"))
    said = re.search(r"applied ([\d,.]+)/s", shipped)
    assert said is not None
    assert abs(float(said[1].replace(",", "")) - applied["defaults"]["applied_per_second"]) < 1
    cpu = next(value for name, value in measured.items() if name.startswith("7. CPU per delivery"))
    assert f"{applied['tuned']['cpu_us_per_delivery_apply_process']:,} µs" in cpu


def applied_run(errors: int, unsent: int = 0, statuses: dict[str, int] | None = None) -> Any:
    return {"errors": errors, "unsent": unsent, "statuses": statuses or {"202": 100}}


@pytest.mark.parametrize(
    ("run", "said"),
    [
        (applied_run(0), ""),
        (applied_run(30, unsent=30), ", 30 not sent (2,000 already waiting)"),
        (applied_run(5, statuses={"202": 90, "503": 5}), ", 5 answered 4xx/5xx"),
        (applied_run(7), ", 7 without an answer"),
        (
            applied_run(5_977, unsent=5_970, statuses={"202": 9, "500": 2}),
            ", 5,970 not sent (2,000 already waiting), 2 answered 4xx/5xx, 5 without an answer",
        ),
    ],
)
def test_figure_7_says_how_many_deliveries_were_not_taken_and_why(run: Any, said: str) -> None:
    assert report.unanswered(run) == said


def test_the_committed_applied_rows_show_the_deliveries_not_taken() -> None:
    figures = committed_results()["figures"]
    measured = {row.figure: row.value for row in report.rows(figures)}
    for name in ("as shipped", "tuned"):
        run = figures["applied"]["defaults" if name == "as shipped" else "tuned"]
        row = next(
            value for key, value in measured.items() if key.startswith(f"7. Applied, {name}")
        )
        assert row.endswith(f"ingest p99 {run['ingest_p99_ms']} ms{report.unanswered(run)}")


def test_the_table_reports_an_events_backlog_drained_by_one_worker() -> None:
    figures = committed_results()["figures"]
    backlog = figures["jira_to_helpdesk"]["backlog"]
    measured = {row.figure: row.value for row in report.rows(figures)}
    row = next(value for name, value in measured.items() if name.startswith("6. A backlog of"))
    assert row == (
        f"{report._f(backlog['events_per_second'])}/s ({backlog['worker_cpu_ms_per_event']} ms)"
    )


def test_the_readme_shows_the_committed_run_s_table() -> None:
    readme = (RESULTS.parents[1] / "README.md").read_text()
    assert committed_results()["table"].strip() in readme
