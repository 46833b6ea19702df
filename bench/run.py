"""`make bench` (`python -m bench.run [--quick]`): the service under uvicorn on a throw-away
PostgreSQL database, driven over real HTTP from this (separate) process; prints one table and
writes bench/results.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import applied, events, outbound, report, scenarios
from bench.fixtures import Database, configure
from bench.processes import peak_rss_mb
from bench.stack import postgres_version, running_stack

RESULTS = Path(__file__).with_name("results.json")
TARGETS = {
    "webhook_ingest_ratio_defaults": ">= 0.6",
    "webhook_ingest_ratio_tuned": ">= 0.8",
    "webhook_ingest_info_to_warning": ">= 0.95",
    "webhook_ingest_info_to_warning_by_api_cpu": ">= 0.95",
    "jira_to_ticket_one_p99_ms": "< 50",
    "jira_to_ticket_1000_tickets_ms": "< 1000",
    "ticket_to_jira_p50_ms": "< 50",
    "outbound_jobs_per_second_instant": ">= 500",
    "outbound_jobs_per_second_150ms_latency": ">= 40",
    "crm_search_p50_ms": "< 50",
    "service_peak_rss_mb": "< 150",
    "applied_per_second_defaults": ">= 1000, backlog not growing",
    "jira_to_ticket_at_100_per_second_defaults_p99_ms": "< 50",
    "ingest_p99_under_load_vs_bare": "<= 2x",
    "jira_to_helpdesk_p99_ms": "< 100",
}


def step(name: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {name} ...", flush=True)


async def measure(plan: scenarios.Plan, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with running_stack(workdir) as stack:
        db = Database(stack)
        try:
            ctx = scenarios.Context(stack, db, await configure(stack), plan)
            step("1/7 webhook ingest (as shipped, tuned, bare stack)")
            results["webhook_ingest"] = await scenarios.webhook_ingest(ctx)
            step("2/7 Jira -> ticket latency")
            results["jira_to_ticket"] = await scenarios.jira_to_ticket(ctx)
            step("3/7 ticket -> Jira latency and outbound jobs/s (instant and 150 ms Jira)")
            results["ticket_to_jira"] = await outbound.ticket_to_jira(ctx)
            step("4/7 CRM search (bulk load first)")
            results["crm_search"] = await scenarios.crm_search(ctx)
            step("5/7 Jira -> helpdesk receiver (outgoing events)")
            results["jira_to_helpdesk"] = await events.jira_to_helpdesk(ctx)
            step("6/7 applied throughput (as shipped, tuned), a minute each")
            results["applied"] = await applied.applied_throughput(ctx, results["webhook_ingest"])
            step("7/7 memory")
            assert stack.app is not None
            results["memory"] = {
                "service_peak_rss_mb": round(peak_rss_mb(stack.app.pid), 1),
                "worker_peak_rss_mb": round(max(stack.worker_peaks_mb, default=0.0), 1),
            }
        except Exception:
            for name in ("service.log", "worker.log", "jira-sim.log", "bare.log"):
                if tail := stack.log_tail(name):
                    print(f"\n--- last lines of {name} ---\n{tail}", file=sys.stderr)
            raise
        finally:
            await db.close()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (1 run each)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    plan = scenarios.QUICK if args.quick else scenarios.Plan()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as directory:
        results = asyncio.run(measure(plan, Path(directory)))
    elapsed = time.perf_counter() - started
    document = {
        "quick": args.quick,
        "seconds": round(elapsed, 1),
        "machine": report.machine(asyncio.run(postgres_version())),
        "targets": TARGETS,
        "figures": results,
        "table": report.table(results),
    }
    if args.output:
        args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print()
    print(report.table(results))
    print(f"\nTook {elapsed:.0f} s; results in {args.output}")


if __name__ == "__main__":
    main()
