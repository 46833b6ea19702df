"""Fault-suite helpers: linked tickets in bulk, a client that retries like a real one, and the
two-sided count (the simulator's comments against the service's actions) every scenario ends on."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import httpx

from app.integration.outbound.rules import SYNC_PROPERTY
from tests.support.helpdesk import API, actions_of, create_ticket, get_ticket
from tests.support.outbound import sim_issues
from tests.support.polling import eventually

P = ParamSpec("P")
T = TypeVar("T")


def deadline(seconds: float) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Bound a test in time: past `seconds` it fails with a TimeoutError instead of hanging CI."""

    def wrap(test: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(test)
        async def bounded(*args: P.args, **kwargs: P.kwargs) -> T:
            async with asyncio.timeout(seconds):
                return await test(*args, **kwargs)

        return bounded

    return wrap


@dataclass(frozen=True)
class Linked:
    ticket_id: int
    issue_key: str


async def linked_tickets(
    api: httpx.AsyncClient, sim: Any, issues: int, *, tickets_per_issue: int = 1
) -> list[Linked]:
    """`issues` Jira issues, each linked to `tickets_per_issue` tickets (JiraKey), all Linked."""
    keys = [sim.create_issue("DEMO", f"Fault issue {n}").key for n in range(issues)]
    created = await gather_limited(
        [
            lambda key=key, n=n: create_ticket(api, Name=f"Ticket {n} on {key}", JiraKey=key)
            for key in keys
            for n in range(tickets_per_issue)
        ]
    )
    links = [Linked(int(t["ID"]), str(t["JiraKey"])) for t in created]
    for link in links:
        await eventually(
            lambda link=link: get_ticket(api, link.ticket_id),
            lambda t: t["JiraSyncStatus"] != "Pending",
            timeout=15.0,
            what=f"ticket {link.ticket_id} linked",
        )
        assert (await get_ticket(api, link.ticket_id))["JiraSyncStatus"] == "Linked"
    return links


async def gather_limited(calls: Iterable[Callable[[], Awaitable[T]]], limit: int = 8) -> list[T]:
    """Run the calls `limit` at a time (a client with a connection pool), results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(call) for call in calls)))


async def post_action_reliably(
    api: httpx.AsyncClient, ticket_id: int, text: str, *, timeout: float = 30.0
) -> dict[str, Any]:
    """POST an action the way a careful client does across a restart or a database hiccup.

    Refused connections (nothing sent) and 5xx answers are retried after a short pause; when the
    outcome is unknown (the connection broke after the request left), the client first looks
    whether the action exists (its text is unique) before posting it again.
    """
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + timeout
    body = {"Description": text, "ActionType": "Comment"}
    url = f"{API}/Tickets/{ticket_id}/Actions"
    while True:
        try:
            response = await api.post(url, json=body)
            if response.status_code == 201:
                return dict(response.json()["Action"])
            assert response.status_code >= 500, response.text  # only 5xx are worth a retry
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
            pass  # never left: safe to repeat
        except httpx.TransportError:
            existing = await _find_action(api, ticket_id, text, stop_at)
            if existing is not None:
                return existing
        if loop.time() > stop_at:
            raise TimeoutError(f"action {text!r} not accepted within {timeout}s")
        await asyncio.sleep(0.05)


async def post_actions_reliably(
    api: httpx.AsyncClient, links: Iterable[Linked], per_ticket: int, label: str
) -> list[dict[str, Any]]:
    """`per_ticket` actions on each linked ticket ("<label> <n> on <ticket id>"), posted eight
    at a time, each the careful way; the accepted actions, in order."""
    return await gather_limited(
        lambda link=link, n=n: post_action_reliably(
            api, link.ticket_id, f"{label} {n} on {link.ticket_id}"
        )
        for n in range(per_ticket)
        for link in links
    )


async def _find_action(
    api: httpx.AsyncClient, ticket_id: int, text: str, stop_at: float
) -> dict[str, Any] | None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            response = await api.get(f"{API}/Tickets/{ticket_id}/Actions")
            if response.status_code == 200:
                matches = [a for a in response.json()["Actions"] if a["Description"] == text]
                return dict(matches[0]) if matches else None
        except httpx.TransportError:
            pass
        if loop.time() > stop_at:
            raise TimeoutError(f"could not learn whether action {text!r} exists")
        await asyncio.sleep(0.05)


def comments_by_action(sim: Any) -> tuple[Counter[int], dict[int, tuple[str, str]]]:
    """Jira's side: how many comments name each action, and (issue key, comment id) of each."""
    counts: Counter[int] = Counter()
    where: dict[int, tuple[str, str]] = {}
    for issue in sim_issues(sim):
        for comment in issue.comments:
            prop = comment.properties.get(SYNC_PROPERTY)
            if isinstance(prop, dict) and "actionId" in prop:
                counts[int(prop["actionId"])] += 1
                where[int(prop["actionId"])] = (issue.key, str(comment.id))
    return counts, where


async def all_pushed(api: httpx.AsyncClient, ticket_ids: Iterable[int]) -> list[dict[str, Any]]:
    rows = await asyncio.gather(*(actions_of(api, t) for t in ticket_ids))
    return [row for ticket_rows in rows for row in ticket_rows]


async def wait_all_pushed(
    api: httpx.AsyncClient, sim: Any, ticket_ids: list[int], expected: int, timeout: float
) -> list[dict[str, Any]]:
    """Until Jira holds `expected` synced comments (counted in the simulator, which costs the
    service nothing) and then the service shows a comment id on every helpdesk action."""
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + timeout

    async def synced() -> int:
        return sum(comments_by_action(sim)[0].values())

    await eventually(
        synced, lambda n: n >= expected, timeout=timeout, interval=0.05, what="comments in Jira"
    )
    return await eventually(
        lambda: all_pushed(api, ticket_ids),
        lambda rows: all(r["JiraCommentID"] for r in rows if r["Source"] != "Jira"),
        timeout=max(1.0, stop_at - loop.time()),
        interval=0.1,
        what=f"{expected} actions marked pushed",
    )


async def assert_each_action_once(
    api: httpx.AsyncClient, sim: Any, links: list[Linked], accepted: list[dict[str, Any]]
) -> None:
    """Nothing lost, nothing doubled, counted on both sides: every accepted helpdesk action is
    exactly one comment on its ticket's issue in Jira, no comment names any other action, and the
    service holds exactly the accepted actions, each with the id of that comment."""
    issue_of = {link.ticket_id: link.issue_key for link in links}
    counts, where = comments_by_action(sim)
    expected = {int(a["ID"]): a for a in accepted}
    assert len(expected) == len(accepted), "an accepted action was answered twice"
    doubled = {action: n for action, n in counts.items() if n > 1}
    assert not doubled, f"comments doubled in Jira: {doubled}"
    assert set(counts) == set(expected), (
        f"missing in Jira: {sorted(set(expected) - set(counts))}; "
        f"unknown in Jira: {sorted(set(counts) - set(expected))}"
    )
    rows = [r for r in await all_pushed(api, issue_of) if r["Source"] != "Jira"]
    assert sorted(int(r["ID"]) for r in rows) == sorted(expected), "actions lost or doubled"
    for row in rows:
        key, comment_id = where[int(row["ID"])]
        assert key == issue_of[int(row["TicketID"])], f"action {row['ID']} on the wrong issue"
        assert row["JiraCommentID"] == comment_id, f"action {row['ID']} names another comment"


async def ticket_state(api: httpx.AsyncClient, ticket_id: int) -> dict[str, Any]:
    return await get_ticket(api, ticket_id)
