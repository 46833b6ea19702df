"""`make demo`: the whole loop on one machine, no Jira and no database server needed.

Starts the Jira simulator and the service (SQLite), configures the Default instance, links a new
ticket with NewJiraIssue, pushes an action as a Jira comment, then changes the issue's status and
comments on the Jira side, printing what happened on each side and how long it took. A helpdesk's
event receiver (subscribed through EventSubscriptions) is told of each Jira change, signed."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.outgoing.sender import new_secret  # noqa: E402
from tests.support.live import free_port, stop_process, wait_until_ready  # noqa: E402
from tests.support.receiver import Receiver, ReceiverProcess  # noqa: E402

JIRA_USER, JIRA_TOKEN = "integration@example.com", "demo-token"
WEBHOOK_SECRET = "demo-webhook-secret-0123456789"


def say(side: str, text: str, elapsed: float | None = None) -> None:
    timing = f"  ({elapsed * 1000:.0f} ms)" if elapsed is not None else ""
    print(f"  [{side:^8}] {text}{timing}", flush=True)


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> tuple[Any, float]:
    """Ask `check` until it returns something truthy; returns it and how long that took."""
    started = time.perf_counter()
    while True:
        value = await check()
        if value:
            return value, time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the demo step did not complete in time")
        await asyncio.sleep(0.01)


async def run_demo(workdir: Path) -> None:
    sim_port, app_port = free_port(), free_port()
    sim_url, app_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{app_port}"
    token = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'demo.db'}",
        "PORT": str(app_port),
        "API_TOKEN": token,
        "SECRET_KEY": secrets.token_urlsafe(24),
        "PUBLIC_URL": app_url,
        "LOG_LEVEL": "WARNING",
    }
    logs = (workdir / "jira-sim.log").open("wb"), (workdir / "service.log").open("wb")
    sim = subprocess.Popen(
        [sys.executable, "-m", "jirasim", "--port", str(sim_port)],
        cwd=workdir,
        env=env,
        stdout=logs[0],
        stderr=subprocess.STDOUT,
    )
    app = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=workdir,
        env=env,
        stdout=logs[1],
        stderr=subprocess.STDOUT,
    )
    receiver = ReceiverProcess(free_port(), Receiver(new_secret(), log=workdir / "events.jsonl"))
    try:
        print(f"Starting the Jira simulator ({sim_url}) and the service ({app_url}) ...")
        await receiver.start()
        await wait_until_ready(app_url, app)
        await wait_for_sim(sim_url, sim)
        await walk_through(app_url, sim_url, token, receiver)
    except Exception:
        for name in ("service.log", "jira-sim.log"):
            tail = (workdir / name).read_text(errors="replace")[-3000:]
            print(f"\n--- last lines of {name} ---\n{tail}", file=sys.stderr)
        raise
    finally:
        stop_process(app)
        stop_process(sim)
        receiver.stop()


async def wait_for_sim(sim_url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=sim_url, auth=(JIRA_USER, JIRA_TOKEN)) as jira:

        async def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError("the Jira simulator exited")
            try:
                return (await jira.get("/rest/api/2/myself")).status_code == 200
            except httpx.TransportError:
                return False

        await until(up)


async def walk_through(app_url: str, sim_url: str, token: str, receiver: ReceiverProcess) -> None:
    api = httpx.AsyncClient(base_url=f"{app_url}/api/json", auth=("demo", token), timeout=10)
    jira = httpx.AsyncClient(base_url=sim_url, auth=(JIRA_USER, JIRA_TOKEN), timeout=10)
    async with api, jira:

        async def ok(response: httpx.Response) -> Any:
            if response.status_code >= 400:
                raise RuntimeError(
                    f"{response.request.method} {response.request.url} answered "
                    f"{response.status_code}: {response.text}"
                )
            return response.json() if response.content else None

        print("\n1. Configure the Default Jira instance")
        instance = (
            await ok(
                await api.put(
                    "/JiraInstances/1",
                    json={
                        "HostName": sim_url,
                        "UserName": JIRA_USER,
                        "ApiToken": JIRA_TOKEN,
                        "DefaultProjectKey": "DEMO",
                        "SyncActive": True,
                        "UpdateTicketStatus": True,
                        "WebhookSecret": WEBHOOK_SECRET,
                    },
                )
            )
        )["JiraInstance"]
        test = await ok(await api.post("/JiraInstances/1/Test"))
        say("helpdesk", f"instance {instance['Name']} -> {sim_url}: {test['Test']['Message']}")
        await ok(
            await jira.post(
                "/_sim/webhooks",
                json={"url": instance["WebhookURL"], "secret": WEBHOOK_SECRET, "style": "cloud"},
            )
        )
        say("jira", f"webhook registered: {instance['WebhookURL']}")

        print("\n2. Helpdesk setup: a ticket type with statuses named like Jira's, a product")
        await ok(await api.post("/TicketTypes", json={"Name": "Bug"}))
        for status in ("To Do", "In Progress", "Done"):
            await ok(
                await api.post(
                    "/TicketStatuses",
                    json={"Name": status, "TicketTypeID": 1, "IsClosed": status == "Done"},
                )
            )
        await ok(await api.post("/Products", json={"Name": "Demo", "JiraProjectKey": "DEMO"}))
        say("helpdesk", "type Bug (To Do / In Progress / Done), product Demo -> DEMO")
        subscription = (
            await ok(
                await api.post(
                    "/EventSubscriptions",
                    json={
                        "Name": "Helpdesk receiver",
                        "URL": receiver.url,
                        "Secret": receiver.receiver.secret,
                        "EventTypes": ["ticket.updated", "action.created"],
                    },
                )
            )
        )["EventSubscription"]
        ping = await ok(await api.post(f"/EventSubscriptions/{subscription['ID']}/Test"))
        say("helpdesk", f"events subscribed at {receiver.url}: {ping['Test']['Message']}")

        async def event_arrived(event_type: str) -> Any:
            return [
                a.event
                for a in receiver.receiver.delivered()
                if a.event["type"] == event_type and a.event["data"].get("origin") == "jira"
            ]

        print("\n3. A ticket linked to a new Jira issue (JiraKey = NewJiraIssue)")
        started = time.perf_counter()
        ticket = (
            await ok(
                await api.post(
                    "/Tickets",
                    json={
                        "Name": "Checkout fails on Safari",
                        "Description": "Customer reports a blank page.",
                        "TicketTypeName": "Bug",
                        "ProductName": "Demo",
                        "JiraKey": "NewJiraIssue",
                    },
                )
            )
        )["Ticket"]
        say(
            "helpdesk",
            f"ticket #{ticket['TicketNumber']} created, JiraSyncStatus {ticket['JiraSyncStatus']}",
            time.perf_counter() - started,
        )

        async def linked() -> Any:
            answer = (await ok(await api.get(f"/Tickets/{ticket['ID']}")))["Ticket"]
            return answer if answer["JiraSyncStatus"] in ("Linked", "Error") else None

        linked_ticket, elapsed = await until(linked)
        key = linked_ticket["JiraKey"]
        say(
            "jira",
            f"issue {key} created; ticket is {linked_ticket['JiraSyncStatus']} "
            f"({linked_ticket['JiraLinkURL']})",
            elapsed,
        )

        print("\n4. A ticket action becomes a Jira comment")
        await ok(
            await api.post(
                f"/Tickets/{ticket['ID']}/Actions",
                json={"Description": "Reproduced on Safari 17; console shows a CSP error."},
            )
        )

        async def comment_arrived() -> Any:
            page = await ok(await jira.get(f"/rest/api/2/issue/{key}/comment"))
            return page["comments"] if page["total"] else None

        comments, elapsed = await until(comment_arrived)
        say("jira", f"comment on {key}: {comments[0]['body']!r}", elapsed)

        print("\n5. Jira moves the issue to In Progress")
        await ok(
            await jira.post(
                f"/_sim/issues/{key}/transition", json={"status": "In Progress", "user": "jdoe"}
            )
        )

        async def status_synced() -> Any:
            answer = (await ok(await api.get(f"/Tickets/{ticket['ID']}")))["Ticket"]
            return answer if answer["Status"] == "In Progress" else None

        moved = time.perf_counter()
        synced, elapsed = await until(status_synced)
        say("helpdesk", f"ticket status is now {synced['Status']}", elapsed)
        (updated, *_), _ = await until(lambda: event_arrived("ticket.updated"))
        change = updated["data"]["changes"][0]
        say(
            "receiver",
            f"ticket.updated, signature verified: {change['Field']} "
            f"{change['From']} -> {change['To']}",
            time.perf_counter() - moved,
        )

        print("\n6. A developer comments in Jira")
        commented = time.perf_counter()
        await ok(
            await jira.post(
                f"/_sim/issues/{key}/comments",
                json={"body": "Fixed in build 4711.", "user": "jdoe"},
            )
        )

        async def action_arrived() -> Any:
            actions = (await ok(await api.get(f"/Tickets/{ticket['ID']}/Actions")))["Actions"]
            return [a for a in actions if a["Source"] == "Jira"]

        from_jira, elapsed = await until(action_arrived)
        say(
            "helpdesk",
            f"new action from {from_jira[0]['CreatorName']}: {from_jira[0]['Description']!r}",
            elapsed,
        )

        (created, *_), _ = await until(lambda: event_arrived("action.created"))
        say(
            "receiver",
            f"action.created, signature verified: {created['data']['Action']['Description']!r}",
            time.perf_counter() - commented,
        )

        history = (await ok(await api.get(f"/Tickets/{ticket['ID']}/History")))["History"]
        print("\nTicket history:")
        for line in history:
            print(f"  - {line['Description']}")
        print("\nThe whole loop ran. Nothing was polled on a 15-minute timer.")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="helpdesk-demo-") as directory:
        asyncio.run(run_demo(Path(directory)))


if __name__ == "__main__":
    main()
