"""Open-model load: requests start on a fixed schedule whatever the answers do, and each latency
is measured from the moment the request was due, so a slow server cannot hide its queueing."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.rawhttp import Answer, HttpError, RawClient

RequestFactory = Callable[[int], tuple[str, str, dict[str, str], bytes]]
AnswerHook = Callable[[int, Answer, float], None]  # request index, answer, wall-clock send time
MAX_IN_FLIGHT = 2000  # requests waiting for an answer, at most; more are counted, not sent


@dataclass
class LoadResult:
    offered_rate: float
    duration: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0  # every request that did not get a 2xx or 3xx, the unsent included
    unsent: int = 0  # not sent: `max_in_flight` requests were already waiting for answers
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.completed / self.duration if self.duration else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, float]:
        return {
            "offered_rate": self.offered_rate,
            "throughput": round(self.throughput, 1),
            "p50_ms": round(self.percentile(0.50) * 1000, 2),
            "p99_ms": round(self.percentile(0.99) * 1000, 2),
            "errors": self.errors,
        }


async def open_model(
    base_url: str,
    make_request: RequestFactory,
    rate: float,
    duration: float,
    max_in_flight: int = MAX_IN_FLIGHT,
    on_answer: AnswerHook | None = None,
    first_index: int = 0,
) -> LoadResult:
    """Send `rate` requests per second for `duration` seconds; count failures as errors.
    Request indexes run from `first_index`, so successive runs can keep requests unique."""
    result = LoadResult(offered_rate=rate, duration=duration)
    http = RawClient(base_url)
    started_at = time.perf_counter()
    in_flight: set[asyncio.Task[None]] = set()
    try:

        async def fire(index: int, due: float) -> None:
            method, path, headers, body = make_request(index)
            sent = time.time()
            try:
                answer = await http.request(method, path, headers, body)
            except HttpError:
                result.errors += 1
                return
            result.statuses[answer.status] = result.statuses.get(answer.status, 0) + 1
            if answer.status >= 400:
                result.errors += 1
                return
            result.latencies.append(time.perf_counter() - due)
            if on_answer is not None:
                on_answer(index, answer, sent)

        total = int(rate * duration)
        for index in range(total):
            due = started_at + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # the schedule itself: this is the offered load
            if len(in_flight) >= max_in_flight:
                result.errors += 1  # the client's own ceiling: counted, never silently queued
                result.unsent += 1
                continue
            task = asyncio.create_task(fire(first_index + index, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*in_flight)
    finally:
        await http.aclose()
    result.duration = time.perf_counter() - started_at
    return result


def keeps_up(run: LoadResult, p99_limit: float) -> bool:
    """No errors, p99 under the limit, and (once drained) the offered rate was served."""
    return (
        run.errors == 0
        and run.percentile(0.99) < p99_limit
        and run.throughput >= 0.9 * run.offered_rate
    )


async def find_saturation(
    base_url: str,
    make_request: RequestFactory,
    start_rate: float,
    duration: float,
    p99_limit: float = 0.25,
    factor: float = 1.5,
    max_rate: float = 20000.0,
    refinements: int = 3,
) -> LoadResult:
    """Raise the offered rate by `factor` until the server falls behind (errors, p99 over the
    limit, or fewer answers than offered), then bisect (geometrically) `refinements` times
    between the last good rate and the first bad one, so the figure is within about 5 % of
    the true saturation rather than a whole step of 50 % below it; the best sustained run is
    the saturation throughput."""
    best: LoadResult | None = None
    rate = start_rate
    failed: float | None = None
    while rate <= max_rate:
        run = await open_model(base_url, make_request, rate, duration)
        if not keeps_up(run, p99_limit):
            failed = rate
            break
        if best is None or run.throughput > best.throughput:
            best = run
        rate *= factor
    if best is None:
        return run
    if failed is None:
        return best
    good, bad = best.offered_rate, failed
    for _ in range(refinements):
        middle = (good * bad) ** 0.5
        await asyncio.sleep(0.5)  # let the server drain what the failed step queued
        run = await open_model(base_url, make_request, middle, duration)
        if keeps_up(run, p99_limit):
            good = middle
            if run.throughput > best.throughput:
                best = run
        else:
            bad = middle
    return best


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}
