"""3. Ticket -> Jira: an action's comment reaching the simulator, and outbound jobs drained per
second, against the instant simulator and against one answering every call after Jira's own
latency (there throughput must come from the worker's concurrency)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import fixtures
from bench.load import median_of, open_model
from bench.processes import cpu_seconds
from bench.rawhttp import Answer
from bench.scenarios import Context, check_clean, ms, pct, watch_drain
from bench.stack import Stack, start_workers, stop_workers

TICKETS = 40
# A real Jira Cloud answers a comment POST in about this long.
JIRA_LATENCY_SECONDS = 0.15
# Jobs in flight per worker for the latency drains: the default, and twice that.
CONCURRENCIES = (8, 16)


def parse_time(value: str) -> float:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def post_actions(
    ctx: Context, tickets: list[int], count: int, rate: float, tag: str
) -> dict[str, float]:
    """POST `count` actions spread over `tickets`; description tag -> the action's DateCreated."""
    created: dict[str, float] = {}
    headers = fixtures.json_api_headers(ctx.stack)

    def request(index: int) -> tuple[str, str, dict[str, str], bytes]:
        body = json.dumps({"Description": f"{tag}-{index}", "ActionType": "Comment"}).encode()
        return "POST", f"/api/json/Tickets/{tickets[index % len(tickets)]}/Actions", headers, body

    def answered(index: int, answer: Answer, _at: float) -> None:
        created[f"{tag}-{index}"] = parse_time(json.loads(answer.body)["Action"]["DateCreated"])

    run = await open_model(ctx.stack.app_url, request, rate, count / rate, on_answer=answered)
    check_clean(run, "actions")
    return created


async def comments_received(
    stack: Stack, created: dict[str, float], timeout: float = 60.0
) -> list[float]:
    """Action DateCreated -> the simulator's record of the comment POST, per action."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=stack.sim_url, timeout=30.0) as sim:
        while True:
            seen: dict[str, float] = {}
            for entry in (await sim.get("/_sim/requests")).json():
                body = entry.get("json")
                if entry["method"] == "POST" and entry["path"].endswith("/comment"):
                    tag = str(body.get("body", "")).split("\n")[0] if isinstance(body, dict) else ""
                    if tag in created and tag not in seen:
                        seen[tag] = parse_time(entry["at"])
            if len(seen) == len(created):
                await sim.delete("/_sim/requests")
                return [seen[tag] - created[tag] for tag in created]
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(seen)} of {len(created)} comments reached Jira")
            await asyncio.sleep(0.2)


@asynccontextmanager
async def jira_latency(stack: Stack, seconds: float) -> AsyncIterator[None]:
    """The simulator answers every REST call after `seconds` (a fault rule with a delay and no
    other effect, on every request, until removed)."""
    async with httpx.AsyncClient(base_url=stack.sim_url) as sim:
        added = await sim.post(
            "/_sim/faults", json={"path": "^/rest/", "delay": seconds, "times": None}
        )
        added.raise_for_status()
        try:
            yield
        finally:
            await sim.delete(f"/_sim/faults/{added.json()['id']}")


def cpu_used(stack: Stack) -> tuple[float, float]:
    """CPU seconds used so far by the worker processes, and by the simulator."""
    assert stack.sim is not None
    return sum(cpu_seconds(worker.pid) for worker in stack.workers), cpu_seconds(stack.sim.pid)


async def drain_rate(
    ctx: Context, tickets: list[int], workers: int, tag: str, concurrency: int | None = None
) -> dict[str, float]:
    """Enqueue N actions with no worker running, start `workers` processes (with `concurrency`
    jobs in flight each, else the default), count done jobs; jobs/s from the first to the last
    job finished (the workers' start-up is not counted), and the CPU per job the workers and the
    simulator used over that time."""
    count = ctx.plan.drain_jobs
    mark = (await ctx.db.fetch("SELECT coalesce(max(id), 0) FROM sync_jobs"))[0][0]
    await post_actions(ctx, tickets, count, 200.0, tag)
    extra = {"WORKER_CONCURRENCY": str(concurrency)} if concurrency else {}
    start_workers(ctx.stack, workers, **extra)
    query = (
        "SELECT count(*), min(updated_at), max(updated_at) FROM sync_jobs "
        "WHERE id > :mark AND kind = 'jira.push_comment' AND status = 'done'"
    )
    try:
        drained = await watch_drain(
            ctx.db, query, count, lambda: cpu_used(ctx.stack), "jobs", mark=mark
        )
    finally:
        stop_workers(ctx.stack)
    async with httpx.AsyncClient(base_url=ctx.stack.sim_url) as sim:
        await sim.delete("/_sim/requests")
    worker_cpu, sim_cpu = drained.cpu_used
    return {
        "jobs_per_second": round((count - 1) / drained.seconds, 1),
        "worker_cpu_ms_per_job": round(worker_cpu * 1000 / drained.counted, 2),
        "sim_cpu_ms_per_job": round(sim_cpu * 1000 / drained.counted, 2),
    }


async def median_drain(
    ctx: Context, tickets: list[int], workers: int, tag: str, concurrency: int | None = None
) -> dict[str, float]:
    runs = [
        await drain_rate(ctx, tickets, workers, f"{tag}-{run}", concurrency)
        for run in range(ctx.plan.runs)
    ]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


async def ticket_to_jira(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    issues = await fixtures.sim_issues(ctx.stack, TICKETS)
    linked = await ctx.db.link_tickets(ctx.helpdesk, issues, 1)
    tickets = [ids[0] for ids in linked.values()]
    async with httpx.AsyncClient(base_url=ctx.stack.sim_url) as sim:
        await sim.delete("/_sim/requests")
    start_workers(ctx.stack, 1)
    try:
        warm = await post_actions(ctx, tickets, 5, 5.0, "warm")
        await comments_received(ctx.stack, warm)
        runs = []
        for run in range(plan.runs):
            created = await post_actions(ctx, tickets, plan.actions, 10.0, f"lat{run}")
            latencies = await comments_received(ctx.stack, created)
            runs.append({"p50_ms": ms(pct(latencies, 0.5)), "p99_ms": ms(pct(latencies, 0.99))})
    finally:
        stop_workers(ctx.stack)
    instant = {
        workers: await median_drain(ctx, tickets, workers, f"d{workers}") for workers in (1, 2)
    }
    async with jira_latency(ctx.stack, JIRA_LATENCY_SECONDS):
        slow = {
            concurrency: await median_drain(ctx, tickets, 1, f"s{concurrency}", concurrency)
            for concurrency in CONCURRENCIES
        }
    return {
        "latency": median_of(runs),
        "jobs_per_second": {workers: run["jobs_per_second"] for workers, run in instant.items()},
        "worker_cpu_ms_per_job": instant[1]["worker_cpu_ms_per_job"],
        "sim_cpu_ms_per_job": instant[1]["sim_cpu_ms_per_job"],
        "jira_latency_ms": ms(JIRA_LATENCY_SECONDS),
        "jobs_per_second_with_latency": {
            concurrency: run["jobs_per_second"] for concurrency, run in slow.items()
        },
        "drain_jobs": plan.drain_jobs,
        "drain_tickets": TICKETS,
    }
