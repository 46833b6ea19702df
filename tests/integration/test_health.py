"""The percentile the Health latency figures use (nearest rank), as a table of cases."""

from __future__ import annotations

import pytest

from app.integration.health import percentile


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.5, 7.0),
        ([7.0], 0.99, 7.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([float(n) for n in range(1, 101)], 0.99, 99.0),
        ([float(n) for n in range(1, 101)], 1.0, 100.0),
        ([5.0, 1.0], 0.0, 1.0),
    ],
)
def test_nearest_rank_percentile(
    values: list[float], fraction: float, expected: float | None
) -> None:
    assert percentile(values, fraction) == expected
