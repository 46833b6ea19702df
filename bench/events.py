"""6. Jira delivery -> the helpdesk's receiver has the event: Jira's status-change webhooks at a
fixed offered rate, each becoming a signed `ticket.updated` that a receiver process (the tests'
`tests/support/receiver.py`, verifying every signature) records with its arrival time. Then a
backlog of events (ticket renames through the API while no worker runs, as after a receiver's
outage) drained by one worker: events delivered per second, and the worker's CPU per event."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import defaultdict
from typing import Any

from app.outgoing.sender import new_secret
from bench.fixtures import api_client, json_api_headers, ok, signed_headers
from bench.load import median_of, open_model
from bench.processes import cpu_seconds
from bench.rawhttp import Answer
from bench.scenarios import Context, DeliveryStream, check_clean, ms, pct, watch_drain
from bench.stack import start_workers, stop_workers
from tests.support.live import free_port
from tests.support.receiver import Attempt, Receiver, ReceiverProcess

ISSUES = 100
# The backlog drained: events queued at this rate with no worker running (twice figure 3's jobs).
BACKLOG_RATE = 200.0
DELIVERED = (
    "SELECT count(*), min(date_delivered), max(date_delivered) FROM event_deliveries "
    "WHERE status = 'Delivered' AND id > :mark"
)


def by_ticket(attempts: list[Attempt]) -> dict[int, list[Attempt]]:
    """Each event once (by webhook-id), per ticket, in arrival order."""
    seen: set[str] = set()
    tickets: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        if attempt.webhook_id not in seen and attempt.event["type"] == "ticket.updated":
            seen.add(attempt.webhook_id)
            tickets[attempt.event["data"]["TicketID"]].append(attempt)
    return tickets


async def run_once(
    ctx: Context,
    receiver: ReceiverProcess,
    streams: list[tuple[DeliveryStream, int]],
    rate: float,
    count: int,
) -> dict[str, float]:
    """`count` deliveries at `rate`/s round the issues; send time -> the receiver's arrival."""
    before = {ticket: len(got) for ticket, got in by_ticket(receiver.receiver.delivered()).items()}
    prepared = []
    for index in range(count):
        stream, ticket = streams[index % len(streams)]
        delivery_id, body, _ = stream.next()
        prepared.append((delivery_id, body, ticket))
    path = f"/webhooks/jira/{ctx.helpdesk.instance_id}"
    sent: dict[int, list[float]] = defaultdict(list)  # per ticket, in order

    def request(index: int) -> tuple[str, str, dict[str, str], bytes]:
        delivery_id, body, _ = prepared[index]
        return "POST", path, signed_headers(body, delivery_id), body

    def answered(index: int, answer: Answer, at: float) -> None:
        sent[prepared[index][2]].append(at)

    run = await open_model(ctx.stack.app_url, request, rate, count / rate, on_answer=answered)
    check_clean(run, "deliveries")
    deadline = time.monotonic() + 60
    while True:
        arrived = by_ticket(receiver.receiver.delivered())
        new = {t: got[before.get(t, 0) :] for t, got in arrived.items()}
        if all(len(new.get(t, [])) >= len(times) for t, times in sent.items()):
            break
        if time.monotonic() > deadline:
            missing = sum(len(times) - len(new.get(t, [])) for t, times in sent.items())
            raise TimeoutError(f"{missing} events did not reach the receiver")
        await asyncio.sleep(0.1)
    latencies = [
        attempt.received_at - sent_at
        for ticket, times in sent.items()
        for sent_at, attempt in zip(sorted(times), new[ticket], strict=False)
    ]
    return {
        "offered_rate": rate,
        "events": float(len(latencies)),
        "p50_ms": ms(pct(latencies, 0.5)),
        "p99_ms": ms(pct(latencies, 0.99)),
    }


async def jira_to_helpdesk(ctx: Context) -> dict[str, Any]:
    """One worker process; the subscription is removed afterwards (nothing else pays for it)."""
    plan = ctx.plan
    issues = [(f"{700000 + n}", f"EVT-{n + 1}") for n in range(ISSUES)]
    linked = await ctx.db.link_tickets(ctx.helpdesk, issues, 1)
    streams = [
        (DeliveryStream(issue_id, key, f"evt{n}"), linked[issue_id][0])
        for n, (issue_id, key) in enumerate(issues)
    ]
    log = ctx.stack.workdir / "events.jsonl"
    receiver = ReceiverProcess(free_port(), Receiver(new_secret(), log=log))
    await receiver.start()
    async with api_client(ctx.stack) as api:
        body = {"Name": "Bench", "URL": receiver.url, "Secret": receiver.receiver.secret}
        subscription = (await ok(await api.post("/EventSubscriptions", json=body)))[
            "EventSubscription"
        ]
        start_workers(ctx.stack, 1)
        try:
            await run_once(ctx, receiver, streams, 20.0, 20)  # warm-up
            count = int(plan.fixed_rate * plan.fixed_seconds)
            runs = [
                await run_once(ctx, receiver, streams, plan.fixed_rate, count)
                for _ in range(plan.runs)
            ]
            stop_workers(ctx.stack)
            tickets = [ticket for _, ticket in streams]
            backlog = [
                await drain_backlog(ctx, tickets, f"b{run}", 2 * plan.drain_jobs)
                for run in range(plan.runs)
            ]
        finally:
            stop_workers(ctx.stack)
            receiver.stop()
            await api.delete(f"/EventSubscriptions/{subscription['ID']}")
    return {
        **median_of(runs),
        "backlog": {key: statistics.median(run[key] for run in backlog) for key in backlog[0]},
    }


async def drain_backlog(
    ctx: Context, tickets: list[int], tag: str, events: int
) -> dict[str, float]:
    """`events` renames through the API with no worker running (each a `ticket.updated` for the
    subscription), then one worker started: events delivered per second from the first to the
    last (the service's own timestamps; its start-up not counted), and its CPU per event from
    the first delivered on."""
    headers = json_api_headers(ctx.stack)

    def request(index: int) -> tuple[str, str, dict[str, str], bytes]:
        body = json.dumps({"Name": f"{tag}-{index}"}).encode()
        return "PUT", f"/api/json/Tickets/{tickets[index % len(tickets)]}", headers, body

    mark = (await ctx.db.fetch("SELECT coalesce(max(id), 0) FROM event_deliveries"))[0][0]
    check_clean(
        await open_model(ctx.stack.app_url, request, BACKLOG_RATE, events / BACKLOG_RATE),
        "renames",
    )
    start_workers(ctx.stack, 1)
    worker = ctx.stack.workers[0].pid
    try:
        drained = await watch_drain(
            ctx.db, DELIVERED, events, lambda: (cpu_seconds(worker),), "events", mark=mark
        )
    finally:
        stop_workers(ctx.stack)
    return {
        "events": float(events),
        "events_per_second": round((events - 1) / drained.seconds, 1),
        "worker_cpu_ms_per_event": round(drained.cpu_used[0] * 1000 / drained.counted, 2),
    }
