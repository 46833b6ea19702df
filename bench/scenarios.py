"""The five measured figures. Each returns plain numbers (milliseconds, per second, MB)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bench import fixtures
from bench.fixtures import Database, Helpdesk, issue_updated, signed_headers
from bench.load import LoadResult, RequestFactory, find_saturation, median_of, open_model
from bench.processes import cpu_seconds
from bench.rawhttp import Answer
from bench.stack import Stack, bare_server, shipped_service, start_workers, stop_workers


@dataclass(frozen=True)
class Plan:
    """How much to do: the full run, or `--quick` (a smoke run of every code path)."""

    runs: int = 3
    fixed_rate: float = 100.0
    fixed_seconds: float = 4.0
    saturation_start: float = 50.0
    step_seconds: float = 2.5
    warmup_seconds: float = 1.0
    latency_deliveries: int = 40
    wide_tickets: int = 1000
    actions: int = 40
    drain_jobs: int = 300
    crm_contacts: int = 100_000
    crm_companies: int = 2_000
    crm_rate: float = 20.0
    crm_seconds: float = 4.0
    applied_seconds: float = 60.0


QUICK = Plan(
    runs=1,
    fixed_seconds=1.5,
    step_seconds=1.0,
    warmup_seconds=0.5,
    latency_deliveries=10,
    wide_tickets=1000,
    actions=10,
    drain_jobs=60,
    crm_contacts=10_000,
    crm_companies=200,
    crm_seconds=1.5,
    applied_seconds=5.0,
)


@dataclass
class Context:
    stack: Stack
    db: Database
    helpdesk: Helpdesk
    plan: Plan


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def check_clean(run: LoadResult, what: str) -> None:
    if run.errors:
        raise RuntimeError(f"{what}: {run.errors} errors (statuses {run.statuses})")


# -- 1. webhook ingest ---------------------------------------------------------------------------


async def webhook_ingest(ctx: Context) -> dict[str, Any]:
    """Signed issue_updated deliveries (unique ids) about 100 issues, each linked to one ticket,
    offered to the service as it ships (`serve` with its worker in-process, INFO logs), to the
    same with WARNING logs (what logging costs), to the tuned configuration (`RUN_WORKER=false`,
    WARNING logs, one dedicated worker process applying them), and to the bare stack (the
    signature checked, an insert once per delivery id, uvicorn's access log at INFO). Each
    configuration runs alone (its own processes started for its turn, its backlog discarded
    after it) and the turns are interleaved, so that the ratios compare the same machine
    state."""
    plan = ctx.plan
    issues = [(f"{900000 + n}", f"ING-{n + 1}") for n in range(100)]
    await ctx.db.link_tickets(ctx.helpdesk, issues, 1)
    moment = datetime.now(UTC)
    bodies = [
        issue_updated(issue_id, key, "To Do", "In Progress", 1, moment) for issue_id, key in issues
    ]
    heads = [signed_headers(body, "") for body in bodies]
    counter = itertools.count()
    path = f"/webhooks/jira/{ctx.helpdesk.instance_id}"

    def to_service(_index: int) -> tuple[str, str, dict[str, str], bytes]:
        n = next(counter)
        headers = {**heads[n % 100], "X-Atlassian-Webhook-Identifier": f"bench-ingest-{n}"}
        return "POST", path, headers, bodies[n % 100]

    def to_bare(_index: int) -> tuple[str, str, dict[str, str], bytes]:
        n = next(counter)
        headers = {**heads[n % 100], "X-Atlassian-Webhook-Identifier": f"bench-bare-{n}"}
        return "POST", "/ingest", headers, bodies[n % 100]

    configurations = {
        "defaults": (lambda: _shipped(ctx.stack, "INFO"), to_service),
        "defaults_warning": (lambda: _shipped(ctx.stack, "WARNING"), to_service),
        "tuned": (lambda: _tuned(ctx.stack), to_service),
        "bare": (lambda: _bare(ctx.stack), to_bare),
    }
    # At the fixed rate only: the tuned configuration with its API at INFO, so that the API's
    # own CPU per delivery at INFO and at WARNING says what logging costs the ingest path.
    fixed_only = {"tuned_info": (lambda: _tuned(ctx.stack, "INFO"), to_service)}
    figures: dict[str, Any] = {name: {"saturation_runs": []} for name in configurations}
    for name, (running, factory) in fixed_only.items():
        async with running() as (url, pids):
            figures[name] = await _at_fixed_rate(ctx, url, pids, factory)
        await ctx.db.execute("TRUNCATE sync_jobs")
    for turn in range(plan.runs):
        for name, (running, factory) in configurations.items():
            runs = figures[name]["saturation_runs"]
            async with running() as (url, pids):
                if turn == 0:
                    figures[name].update(await _at_fixed_rate(ctx, url, pids, factory))
                start = max(plan.saturation_start, runs[-1]["offered_rate"] / 2.25) if runs else 0
                run = await find_saturation(
                    url, factory, start or plan.saturation_start, plan.step_seconds
                )
                runs.append(run.summary())
            # What its workers had not applied yet is debris, not the next turn's work.
            await ctx.db.execute("TRUNCATE sync_jobs")
    for name in configurations:
        figures[name]["saturation"] = median_of(figures[name]["saturation_runs"])
    bare = figures["bare"]["saturation"]["throughput"]
    for name in ("defaults", "defaults_warning", "tuned"):
        figures[f"ratio_{name}"] = round(figures[name]["saturation"]["throughput"] / bare, 3)
    figures["info_to_warning"] = round(
        figures["defaults"]["saturation"]["throughput"]
        / figures["defaults_warning"]["saturation"]["throughput"],
        3,
    )
    # The same question asked at a fixed rate, where the run-to-run spread is far smaller than
    # at saturation: the rate a CPU-bound process reaches goes as one over its CPU per delivery.
    # As shipped (applying included), and the ingest path alone (the tuned API process).
    figures["info_to_warning_by_cpu"] = round(
        figures["defaults_warning"]["cpu_us_per_delivery"]
        / figures["defaults"]["cpu_us_per_delivery"],
        3,
    )
    figures["info_to_warning_by_api_cpu"] = round(
        figures["tuned"]["api_cpu_us_per_delivery"]
        / figures["tuned_info"]["api_cpu_us_per_delivery"],
        3,
    )
    accepted = await ctx.db.fetch(
        "SELECT count(*) FROM webhook_deliveries WHERE delivery_id LIKE 'bench-ingest-%'"
    )
    figures["deliveries_stored"] = int(accepted[0][0])
    await ctx.db.execute("TRUNCATE sync_jobs, webhook_deliveries")
    return figures


# Each configuration as it runs: its URL and the processes whose CPU its deliveries cost.
Running = AsyncIterator[tuple[str, list[int]]]


@asynccontextmanager
async def _shipped(stack: Stack, log_level: str) -> Running:
    async with shipped_service(stack, log_level) as (url, pid):
        yield url, [pid]


@asynccontextmanager
async def _tuned(stack: Stack, api_log_level: str = "WARNING") -> Running:
    """An API with `RUN_WORKER=false` (the stack's own at WARNING, else one at `api_log_level`)
    and one dedicated worker process (WARNING logs); the API's process first."""
    async with contextlib.AsyncExitStack() as running:
        if api_log_level == "WARNING":
            assert stack.app is not None
            url, api = stack.app_url, stack.app.pid
        else:
            url, api = await running.enter_async_context(
                shipped_service(stack, api_log_level, run_worker=False)
            )
        start_workers(stack, 1)
        running.callback(stop_workers, stack)
        yield url, [api, stack.workers[-1].pid]


async def _at_fixed_rate(
    ctx: Context, url: str, pids: list[int], factory: RequestFactory
) -> dict[str, Any]:
    """After a warm-up, `plan.runs` runs at the fixed rate: their median, and the CPU the
    processes (`pids`, the one answering first) used per delivery until all was applied."""
    plan = ctx.plan
    await open_model(url, factory, plan.fixed_rate, plan.warmup_seconds)
    await _applied_all(ctx.db)  # and a dedicated worker has started
    before = [cpu_seconds(pid) for pid in pids]
    fixed = [
        (await open_model(url, factory, plan.fixed_rate, plan.fixed_seconds))
        for _ in range(plan.runs)
    ]
    await _applied_all(ctx.db)
    used = [cpu_seconds(pid) - at for pid, at in zip(pids, before, strict=True)]
    delivered = max(sum(run.completed for run in fixed), 1)
    return {
        "fixed": median_of([run.summary() for run in fixed]),
        "cpu_us_per_delivery": round(sum(used) * 1e6 / delivered),
        "api_cpu_us_per_delivery": round(used[0] * 1e6 / delivered),
    }


@asynccontextmanager
async def _bare(stack: Stack) -> Running:
    async with bare_server(stack) as (url, pid):
        yield url, [pid]


async def _applied_all(db: Database, timeout: float = 60.0) -> None:
    """Wait until no job is running or ready: what was delivered has been applied."""
    query = (
        "SELECT count(*) FROM sync_jobs WHERE status = 'running' "
        "OR (status = 'queued' AND run_after <= now())"
    )
    deadline = time.monotonic() + timeout
    while (await db.fetch(query))[0][0]:
        if time.monotonic() > deadline:
            raise TimeoutError("the deliveries were not applied in time")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Drained:
    """A backlog drained: seconds from the first item done to the last (the service's own
    timestamps), and the CPU (`cpu()`'s readings) used from the poll that first saw one done to
    the end, over the items done after that poll."""

    seconds: float
    cpu_used: tuple[float, ...]
    counted: int


async def watch_drain(
    db: Database,
    query: str,
    count: int,
    cpu: Callable[[], tuple[float, ...]],
    what: str,
    timeout: float = 120.0,
    **parameters: Any,
) -> Drained:
    """Poll `query` (how many are done, when the first and the last were done) until `count`
    are done."""
    deadline = time.monotonic() + timeout
    at_first: tuple[tuple[float, ...], int] | None = None
    while True:
        done, first, last = (await db.fetch(query, **parameters))[0]
        if done and at_first is None:
            at_first = (cpu(), done)
        if done >= count and at_first is not None:
            used = tuple(end - start for start, end in zip(at_first[0], cpu(), strict=True))
            seconds = max((last - first).total_seconds(), 1e-6)
            return Drained(seconds, used, max(count - at_first[1], 1))
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {done} of {count} {what} done")
        await asyncio.sleep(0.02)


# -- 2. Jira -> ticket ---------------------------------------------------------------------------


class DeliveryStream:
    """Successive status changes of one issue: To Do <-> In Progress, newer each time."""

    def __init__(self, issue_id: str, key: str, name: str) -> None:
        self.issue_id, self.key, self.name = issue_id, key, name
        self.count = 0
        self.updated = datetime.now(UTC)

    def next(self) -> tuple[str, bytes, str]:
        self.count += 1
        self.updated += timedelta(milliseconds=10)
        to = "In Progress" if self.count % 2 else "To Do"
        before = "To Do" if self.count % 2 else "In Progress"
        body = issue_updated(self.issue_id, self.key, before, to, self.count, self.updated)
        return f"bench-{self.name}-{self.count}", body, to


async def applied_latencies(
    db: Database, sent: dict[str, float], timeout: float = 60.0
) -> list[tuple[float, float]]:
    """(sent -> processed_at, received_at -> processed_at) per delivery, once all are applied."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await db.fetch(
            "SELECT delivery_id, received_at, processed_at, outcome FROM webhook_deliveries "
            "WHERE delivery_id = ANY(:ids)",
            ids=list(sent),
        )
        done = [row for row in rows if row[2] is not None]
        if len(done) == len(sent):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(done)} of {len(sent)} deliveries were applied")
        await asyncio.sleep(0.1)
    bad = [row for row in done if row[3] != "applied"]
    if bad:
        raise RuntimeError(f"deliveries not applied: {bad[:3]}")
    return [(row[2].timestamp() - sent[row[0]], (row[2] - row[1]).total_seconds()) for row in done]


async def timed_deliveries(
    ctx: Context, url: str, prepared: list[tuple[str, bytes, str]], rate: float
) -> list[tuple[float, float]]:
    """Post prepared deliveries (`DeliveryStream.next()`) at `rate` per second; once all are
    applied, their latencies from the service's own timestamps (`applied_latencies`)."""
    path = f"/webhooks/jira/{ctx.helpdesk.instance_id}"
    sent: dict[str, float] = {}

    def request(index: int) -> tuple[str, str, dict[str, str], bytes]:
        delivery_id, body, _ = prepared[index]
        return "POST", path, signed_headers(body, delivery_id), body

    def answered(index: int, answer: Answer, at: float) -> None:
        sent[prepared[index][0]] = at

    run = await open_model(url, request, rate, len(prepared) / rate, on_answer=answered)
    check_clean(run, "deliveries")
    return await applied_latencies(ctx.db, sent)


async def deliver(
    ctx: Context, stream: DeliveryStream, rate: float, count: int
) -> dict[str, float]:
    """`count` deliveries at `rate` per second; latencies from the service's own timestamps."""
    prepared = [stream.next() for _ in range(count)]
    pairs = await timed_deliveries(ctx, ctx.stack.app_url, prepared, rate)
    end_to_end = [pair[0] for pair in pairs]
    stored = [pair[1] for pair in pairs]
    return {
        "p50_ms": ms(pct(end_to_end, 0.5)),
        "p99_ms": ms(pct(end_to_end, 0.99)),
        "received_to_processed_p50_ms": ms(pct(stored, 0.5)),
        "received_to_processed_p99_ms": ms(pct(stored, 0.99)),
        "last_status": 1.0 if prepared[-1][2] == "In Progress" else 0.0,
    }


async def jira_to_ticket(ctx: Context) -> dict[str, Any]:
    """Arrival (the load process's send time) -> the delivery marked applied, which happens in
    the transaction that changes the tickets; one worker process (`python -m app worker`)."""
    plan = ctx.plan
    await ctx.db.link_tickets(ctx.helpdesk, [("800001", "LAT-1")], 1)
    await ctx.db.link_tickets(ctx.helpdesk, [("800003", "WIDE-2")], plan.wide_tickets)
    one = DeliveryStream("800001", "LAT-1", "one")
    many = DeliveryStream("800003", "WIDE-2", "wide")
    start_workers(ctx.stack, 1)
    try:
        await deliver(ctx, one, 5.0, 5)  # warm-up (and the worker's start)
        single = [await deliver(ctx, one, 10.0, plan.latency_deliveries) for _ in range(plan.runs)]
        await deliver(ctx, many, 1.0, 1)  # warm-up
        wide_runs = [await deliver(ctx, many, 1.0, 1) for _ in range(plan.runs)]
    finally:
        stop_workers(ctx.stack)
    status = await ctx.db.fetch(
        "SELECT s.name, count(*) FROM tickets t JOIN jira_issues i ON i.id = t.jira_issue_ref "
        "JOIN ticket_statuses s ON s.id = t.status_id WHERE i.issue_id = '800003' GROUP BY s.name"
    )
    return {
        "one_ticket": median_of(single),
        "wide_apply_ms": statistics.median(run["p50_ms"] for run in wide_runs),
        "wide_tickets": plan.wide_tickets,
        "wide_statuses_after": {row[0]: int(row[1]) for row in status},
    }


# -- 4. CRM search -------------------------------------------------------------------------------


async def crm_search(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    started = time.perf_counter()
    await ctx.db.load_crm(plan.crm_companies, plan.crm_contacts)
    load_seconds = time.perf_counter() - started
    counter = itertools.count(1)

    def request(_index: int) -> tuple[str, str, dict[str, str], bytes]:
        company = next(counter) * 37 % plan.crm_companies + 1
        query = urlencode(
            {
                "command": "searchentities",
                "tableName": "CONTACTS",
                "crm_param_1": "Company",
                "crm_param_1_value": f"Company {company}",
                "userName": fixtures.CRM_USER,
                "apiKey": fixtures.CRM_KEY,
            }
        )
        return "GET", f"/plugins/servlet/crm/api?{query}", {}, b""

    url = ctx.stack.app_url
    await open_model(url, request, plan.crm_rate, plan.warmup_seconds)
    runs = []
    for _ in range(plan.runs):
        run = await open_model(url, request, plan.crm_rate, plan.crm_seconds)
        check_clean(run, "searchentities")
        runs.append(run.summary())
    return {
        **median_of(runs),
        "records": plan.crm_contacts + plan.crm_companies,
        "load_seconds": round(load_seconds, 1),
    }
