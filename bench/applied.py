"""7. Applied throughput: signed status changes spread over 100 linked issues, offered at a fixed
rate for a minute, to the service as it ships (worker in-process) and to the tuned configuration
(API with WARNING logs, one dedicated worker process). Per configuration: deliveries stored
(answered) and applied to their tickets per second, the backlog of stored-but-unapplied ones
sampled through the run (does it grow?), and the CPU each delivery cost the processes that
ingest and apply it; at the defaults also Jira -> ticket latency at 100 deliveries/s."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any

from bench.fixtures import signed_headers
from bench.load import open_model
from bench.processes import cpu_seconds, peak_rss_mb
from bench.scenarios import Context, DeliveryStream, ms, pct, timed_deliveries
from bench.stack import shipped_service, start_workers, stop_workers

ISSUES = 100
SAMPLE_SECONDS = 2.0
# Offered: this share of what the configuration ingests at saturation (figure 1), so that what
# is measured is whether applying keeps up with ingesting, not the ingest ceiling again.
SHARE_OF_SATURATION = 0.8
BACKLOG = (
    "SELECT count(*) FROM webhook_deliveries "
    "WHERE delivery_id LIKE :prefix AND processed_at IS NULL"
)
APPLIED_BY_NOW = (
    "SELECT count(*) FILTER (WHERE processed_at IS NULL), "
    "count(*) FILTER (WHERE processed_at <= now()) "
    "FROM webhook_deliveries WHERE delivery_id LIKE :prefix"
)


@dataclass
class Processes:
    """The process ids whose CPU is counted: who ingests, and who applies."""

    ingest: int
    apply: int

    def cpu(self) -> tuple[float, float]:
        return cpu_seconds(self.ingest), cpu_seconds(self.apply)


def slope(samples: list[tuple[float, int]]) -> float:
    """Least-squares growth of the backlog, in deliveries per second."""
    if len(samples) < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / len(samples)
    mean_b = sum(b for _, b in samples) / len(samples)
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return sum((t - mean_t) * (b - mean_b) for t, b in samples) / spread if spread else 0.0


async def run_at(
    ctx: Context,
    url: str,
    processes: Processes,
    streams: list[DeliveryStream],
    rate: float,
    name: str,
) -> dict[str, Any]:
    db = ctx.db
    prefix = f"applied-{name}-"
    counter = itertools.count()
    path = f"/webhooks/jira/{ctx.helpdesk.instance_id}"

    def request(_index: int) -> tuple[str, str, dict[str, str], bytes]:
        n = next(counter)
        _, body, _ = streams[n % len(streams)].next()
        return "POST", path, signed_headers(body, f"{prefix}{n}"), body

    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            rows = await db.fetch(BACKLOG, prefix=f"{prefix}%")
            samples.append((time.monotonic() - started, int(rows[0][0])))
            try:
                await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
            except TimeoutError:
                pass

    cpu_before = processes.cpu()
    sampler = asyncio.create_task(sample())
    run = await open_model(url, request, rate, ctx.plan.applied_seconds)
    stop.set()
    await sampler
    backlog_at_end, applied_in_run = (
        int(value) for value in (await db.fetch(APPLIED_BY_NOW, prefix=f"{prefix}%"))[0]
    )
    drained_in = await _drain(ctx, prefix)
    ingest_cpu, apply_cpu = (
        after - before for after, before in zip(processes.cpu(), cpu_before, strict=True)
    )
    stored = run.completed
    steady = [sample for sample in samples if sample[0] >= run.duration / 3]
    growth = slope(steady)
    return {
        "offered_rate": round(rate, 1),
        "seconds": round(run.duration, 1),
        "ingested_per_second": round(stored / run.duration, 1),
        "applied_per_second": round(applied_in_run / run.duration, 1),
        "ingest_p99_ms": round(run.percentile(0.99) * 1000, 2),
        "errors": run.errors,
        "unsent": run.unsent,
        "statuses": {str(status): count for status, count in sorted(run.statuses.items())},
        "backlog_at_end": backlog_at_end,
        "backlog_growth_per_second": round(growth, 1),
        "backlog_grows": growth > 0.02 * rate,
        "drained_after_seconds": round(drained_in, 1),
        # In-process: one process does both (its figure counts both); else one each.
        "cpu_us_per_delivery_ingest_process": round(ingest_cpu / stored * 1e6),
        "cpu_us_per_delivery_apply_process": round(apply_cpu / stored * 1e6),
    }


async def _drain(ctx: Context, prefix: str, timeout: float = 300.0) -> float:
    """Seconds until every stored delivery of the run is applied."""
    started = time.monotonic()
    while True:
        rows = await ctx.db.fetch(
            "SELECT count(*) FROM webhook_deliveries "
            "WHERE delivery_id LIKE :prefix AND processed_at IS NULL",
            prefix=f"{prefix}%",
        )
        if int(rows[0][0]) == 0:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{rows[0][0]} deliveries of {prefix} were never applied")
        await asyncio.sleep(0.2)


async def latency_at_100(ctx: Context, url: str, streams: list[DeliveryStream]) -> dict[str, float]:
    """Jira -> ticket (the load's send time -> processed_at) at 100 deliveries/s."""
    rate, seconds = 100.0, ctx.plan.fixed_seconds * 2
    prepared = [streams[n % len(streams)].next() for n in range(int(rate * seconds))]
    end_to_end = [pair[0] for pair in await timed_deliveries(ctx, url, prepared, rate)]
    return {"p50_ms": ms(pct(end_to_end, 0.5)), "p99_ms": ms(pct(end_to_end, 0.99))}


async def applied_throughput(ctx: Context, ingest: dict[str, Any]) -> dict[str, Any]:
    issues = [(f"{600000 + n}", f"APL-{n + 1}") for n in range(ISSUES)]
    await ctx.db.link_tickets(ctx.helpdesk, issues, 1)
    streams = [DeliveryStream(issue, key, f"apl{n}") for n, (issue, key) in enumerate(issues)]
    figures: dict[str, Any] = {}
    async with shipped_service(ctx.stack) as (url, pid):
        await latency_at_100(ctx, url, streams)  # warm-up
        figures["defaults_latency_at_100"] = await latency_at_100(ctx, url, streams)
        rate = SHARE_OF_SATURATION * ingest["defaults"]["saturation"]["throughput"]
        figures["defaults"] = await run_at(ctx, url, Processes(pid, pid), streams, rate, "defaults")
        figures["defaults_peak_rss_mb"] = round(peak_rss_mb(pid), 1)
    assert ctx.stack.app is not None
    start_workers(ctx.stack, 1)
    try:
        rate = SHARE_OF_SATURATION * ingest["tuned"]["saturation"]["throughput"]
        processes = Processes(ctx.stack.app.pid, ctx.stack.workers[0].pid)
        figures["tuned"] = await run_at(ctx, ctx.stack.app_url, processes, streams, rate, "tuned")
    finally:
        stop_workers(ctx.stack)
    figures["issues"] = ISSUES
    await ctx.db.execute("TRUNCATE sync_jobs, webhook_deliveries")
    return figures
