"""Deliveries about one issue queued together are applied by one job, each exactly as its own
job would apply it: the same tickets, History, actions, sync logs and outcomes, whether they
arrive one at a time or as a burst (a backlog, or Jira sending quickly)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update
from sqlmodel import col

from app.core.db import utcnow
from app.inbox.models import WebhookDelivery
from app.integration.inbound import apply
from app.integration.job_kinds import ApplyWebhook, RefreshIssue
from app.integration.linked_issues import issue_row
from app.jobs import behind, outbox
from app.jobs.models import JobStatus, SyncJob
from app.jobs.worker import Worker
from app.wiring import job_registry
from tests.conftest import SIM_USER
from tests.support.inbound import (
    actions_of,
    cloud_comment_created,
    deliver,
    history_of,
    issue_updated,
    item,
    simple_event,
    sync_logs,
    ticket_rows,
    user,
)
from tests.support.jobs import drain, jobs_of_kind
from tests.support.statements import statements_sent
from tests.support.world import (
    ISSUE_ID,
    ISSUE_KEY,
    LinkedWorld,
    link,
    linked_world,
    make_tickets,
)

DONE = "sync_jobs_done_total"


def change(
    old: str,
    new: str,
    minute: int,
    changelog_id: int,
    issue: tuple[str, str] = (ISSUE_ID, ISSUE_KEY),
) -> dict[str, Any]:
    """A status change of `issue` (id, key) made at 10:`minute`."""
    return issue_updated(
        *issue,
        [item("status", old, new)],
        changelog_id=changelog_id,
        updated=f"2026-11-23T10:{minute:02d}:00.000+0000",
        status=new,
    )


# A burst that needs no call to Jira: status changes, an older change arriving late, an edited
# comment (logged, not synced), a private comment and the integration user's own (both skipped).
BURST = [
    change("To Do", "In Progress", 1, 101),
    cloud_comment_created(
        ISSUE_ID, ISSUE_KEY, "9001", visibility={"type": "role", "value": "Developers"}
    ),
    change("In Progress", "Done", 3, 103),
    change("To Do", "Open", 2, 102),  # older than the change before it: stale
    simple_event("comment_updated", ISSUE_ID, ISSUE_KEY),
    cloud_comment_created(ISSUE_ID, ISSUE_KEY, "9002", author=user(SIM_USER, cloud=False)),
    change("Done", "In Progress", 4, 104),
]
OUTCOMES = [
    "applied",
    "comment skipped",
    "applied",
    "stale",
    "logged",
    "comment skipped",
    "applied",
]


async def outcomes_in_order(session: Any) -> list[str | None]:
    rows = list(
        await session.scalars(
            select(col(WebhookDelivery.outcome)).order_by(col(WebhookDelivery.id))
        )
    )
    await session.commit()
    return rows


@pytest.mark.parametrize("arrival", ["one at a time", "as a burst"])
async def test_a_burst_applied_together_leaves_what_one_at_a_time_leaves(
    arrival: str, http: httpx.AsyncClient, service: Any, session: Any
) -> None:
    s = await linked_world(session, 2)
    counted = REGISTRY.get_sample_value(DONE, {"kind": ApplyWebhook.kind}) or 0.0
    jobs_run = 0
    for payload in BURST:
        assert (await deliver(http, s.instance_id, payload)).is_success
        if arrival == "one at a time":
            jobs_run += await drain(service)
    if arrival == "as a burst":
        jobs_run += await drain(service)

    in_progress = s.catalog.statuses[(s.catalog.bug, "In Progress")]
    assert {t.status_id for t in await ticket_rows(session, s.tickets)} == {in_progress}
    for ticket in s.tickets:
        assert [line for line in await history_of(session, ticket) if "Status" in line] == [
            "Status changed from Open to In Progress by Jira",
            "Status changed from In Progress to Done by Jira",
            "Status changed from Done to In Progress by Jira",
        ]
        assert await actions_of(session, ticket) == []
    assert await outcomes_in_order(session) == OUTCOMES
    messages = [log.message for log in await sync_logs(session)]
    assert messages == [
        *["status -> In Progress"] * 2,
        "Jira comment 9001 not added: private (visibility restricted, or an internal note)",
        *["status -> Done"] * 2,
        "Older change to DEMO-1 not applied over a newer one",
        "Comment edit on DEMO-1 not propagated (edits are not synced)",
        "Jira comment 9002 not added: written by the integration user (our own comment)",
        *["status -> In Progress"] * 2,
    ]
    assert all(
        job.status == JobStatus.DONE for job in await jobs_of_kind(service, "jira.apply_webhook")
    )
    assert jobs_run == (len(BURST) if arrival == "one at a time" else 1)
    # every job counted done, whichever job did its work
    assert REGISTRY.get_sample_value(DONE, {"kind": ApplyWebhook.kind}) == counted + len(BURST)


async def test_a_comment_that_jira_must_tell_about_is_applied_by_its_own_job_in_order(
    http: httpx.AsyncClient, service: Any, session: Any, sim: Any
) -> None:
    """A shown comment is read from Jira first (outside the transaction): the burst stops
    before it, and the deliveries behind it follow after it, still in order."""
    issue = sim.create_issue("DEMO", "Printer on fire", user="jdoe")
    said = sim.add_comment(issue.key, "We are on it", user="jdoe")
    s = await linked_world(session, 1, issue_id=issue.id, issue_key=issue.key)
    burst = [
        change("To Do", "In Progress", 1, 1, (issue.id, issue.key)),
        cloud_comment_created(issue.id, issue.key, said.id, text="We are on it"),
        change("In Progress", "Done", 2, 2, (issue.id, issue.key)),
    ]
    for payload in burst:
        assert (await deliver(http, s.instance_id, payload)).is_success

    assert await drain(service) == 2  # the first change; the comment with the change behind it

    (ticket,) = await ticket_rows(session, s.tickets)
    assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]
    assert [a.jira_comment_id for a in await actions_of(session, ticket.id or 0)] == [said.id]
    assert await outcomes_in_order(session) == ["applied", "applied", "applied"]


async def test_a_job_of_another_kind_in_between_keeps_its_place(
    http: httpx.AsyncClient, service: Any, session: Any
) -> None:
    s = await linked_world(session, 1)
    assert (await deliver(http, s.instance_id, change("To Do", "In Progress", 1, 1))).is_success
    async with service.state.session_factory() as own:
        await outbox.enqueue(own, RefreshIssue(instance_id=s.instance_id, issue_id=ISSUE_ID))
        await own.commit()
    assert (await deliver(http, s.instance_id, change("In Progress", "Done", 2, 2))).is_success
    jobs = await service_jobs(service)
    lead, refresh, second = jobs
    async with service.state.session_factory() as own:
        taken = await behind.queued_behind(
            own, lead.id or 0, lead.ordering_key or "", ApplyWebhook.kind, 10
        )
        await own.commit()
    assert (refresh.kind, second.kind) == (RefreshIssue.kind, ApplyWebhook.kind)
    assert taken == []


async def service_jobs(service: Any) -> list[SyncJob]:
    async with service.state.session_factory() as own:
        rows = list(await own.scalars(select(SyncJob).order_by(col(SyncJob.id))))
        await own.commit()
    return rows


async def test_at_most_the_limit_is_taken_behind_one_job(
    http: httpx.AsyncClient, service: Any, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apply, "COALESCE_LIMIT", 2)
    s = await linked_world(session, 1)
    statuses = ["To Do", "In Progress", "Done", "Open", "In Progress", "Done"]
    for n, (old, new) in enumerate(zip(statuses, statuses[1:], strict=False)):
        assert (await deliver(http, s.instance_id, change(old, new, n + 1, n + 1))).is_success

    assert await drain(service) == 2  # five deliveries: the lead and two, then the lead and one

    (ticket,) = await ticket_rows(session, s.tickets)
    assert ticket.status_id == s.catalog.statuses[(s.catalog.bug, "Done")]
    assert await outcomes_in_order(session) == ["applied"] * 5


async def test_a_job_not_due_yet_is_not_taken(
    http: httpx.AsyncClient, service: Any, session: Any
) -> None:
    s = await linked_world(session, 1)
    for n, (old, new) in enumerate([("To Do", "In Progress"), ("In Progress", "Done")]):
        assert (await deliver(http, s.instance_id, change(old, new, n + 1, n + 1))).is_success
    lead, second = await service_jobs(service)
    async with service.state.session_factory() as own:
        later = await own.get(SyncJob, second.id)
        assert later is not None
        later.run_after = later.run_after.replace(year=2100)
        await own.commit()
        assert (
            await behind.queued_behind(
                own, lead.id or 0, lead.ordering_key or "", ApplyWebhook.kind, 10
            )
            == []
        )
        await own.commit()


async def test_nothing_behind_a_deletion_is_applied_with_it(
    http: httpx.AsyncClient, service: Any, session: Any
) -> None:
    s = await linked_world(session, 1)
    burst = [
        change("To Do", "In Progress", 1, 1),
        simple_event("jira:issue_deleted", ISSUE_ID, ISSUE_KEY),
        change("In Progress", "Done", 2, 2),
    ]
    for payload in burst:
        assert (await deliver(http, s.instance_id, payload)).is_success

    assert await drain(service) == 2

    assert await outcomes_in_order(session) == ["applied", "deleted", "unlinked"]


# -- the first deliveries of other issues, under a backlog (`apply._apply_alongside`) ------------

OTHER_ISSUES = [(ISSUE_ID, ISSUE_KEY), ("10041", "DEMO-2"), ("10042", "DEMO-3")]


async def one_ticket_per_issue(session: Any) -> tuple[LinkedWorld, list[int]]:
    """A ticket linked to each of OTHER_ISSUES (in order); the world and the tickets."""
    s = await linked_world(session, 1)
    tickets = [*s.tickets, *await make_tickets(session, s.catalog, len(OTHER_ISSUES) - 1)]
    for (issue_id, key), ticket in zip(OTHER_ISSUES[1:], tickets[1:], strict=True):
        await link(session, s.instance, issue_id, key, [ticket])
    await session.commit()
    return s, tickets


async def a_change_to_each_issue(http: httpx.AsyncClient, s: LinkedWorld) -> None:
    for issue in OTHER_ISSUES:
        assert await deliver(http, s.instance_id, change("To Do", "In Progress", 1, 1, issue))


async def status_lines(session: Any, tickets: list[int]) -> list[list[str]]:
    return [
        [line for line in await history_of(session, ticket) if "Status" in line]
        for ticket in tickets
    ]


IN_PROGRESS_ONCE = [["Status changed from Open to In Progress by Jira"]] * len(OTHER_ISSUES)


class TestOtherIssuesUnderABacklog:
    @pytest.mark.parametrize(
        ("slots", "jobs_run"),
        [(1, 1), (2, 2), (len(OTHER_ISSUES) + 1, len(OTHER_ISSUES))],
        ids=["one slot", "two slots, the third taken", "a slot left free: each alone"],
    )
    async def test_the_first_deliveries_of_other_issues_are_applied_with_the_running_job(
        self,
        slots: int,
        jobs_run: int,
        http: httpx.AsyncClient,
        service: Any,
        session: Any,
    ) -> None:
        """A claim that fills every free slot says more jobs wait: each job running then
        applies the other issues' first deliveries too, each as its own job would."""
        s, tickets = await one_ticket_per_issue(session)
        counted = REGISTRY.get_sample_value(DONE, {"kind": ApplyWebhook.kind}) or 0.0
        await a_change_to_each_issue(http, s)

        assert await drain(service, slots) == jobs_run

        assert await status_lines(session, tickets) == IN_PROGRESS_ONCE
        assert await outcomes_in_order(session) == ["applied"] * len(OTHER_ISSUES)
        messages = [log.message for log in await sync_logs(session)]
        assert messages == ["status -> In Progress"] * len(OTHER_ISSUES)
        assert all(
            job.status == JobStatus.DONE for job in await jobs_of_kind(service, ApplyWebhook.kind)
        )
        counted_now = REGISTRY.get_sample_value(DONE, {"kind": ApplyWebhook.kind})
        assert counted_now == counted + len(OTHER_ISSUES)

    async def test_their_issues_and_tickets_are_read_in_one_statement_each(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        """The running job reads its own issue with its delivery, and its tickets (on
        PostgreSQL in the same statement); the others taken with it, however many, are locked in
        one statement and their tickets read in one more."""
        s, tickets = await one_ticket_per_issue(session)
        await a_change_to_each_issue(http, s)

        with statements_sent(service.state.engine) as sent:
            assert await drain(service, 1) == 1

        reads = [
            found.group(1)
            for statement in sent
            if statement.startswith("SELECT") and (found := re.search(r"\bFROM\s+(\w+)", statement))
        ]
        assert reads.count("jira_issues") == 1
        own_tickets_apart = service.state.engine.dialect.name != "postgresql"
        assert reads.count("tickets") == 1 + own_tickets_apart
        assert await status_lines(session, tickets) == IN_PROGRESS_ONCE

    async def test_a_retried_job_runs_alone(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s, tickets = await one_ticket_per_issue(session)
        await a_change_to_each_issue(http, s)
        first, *_ = await jobs_of_kind(service, ApplyWebhook.kind)
        async with service.state.session_factory() as own:
            await own.execute(update(SyncJob).where(col(SyncJob.id) == first.id).values(attempts=1))
            await own.commit()

        # the retried one alone; then the second, with the third
        assert await drain(service, 1) == 2

        assert await status_lines(session, tickets) == IN_PROGRESS_ONCE

    async def test_a_comment_jira_must_tell_about_is_left_to_its_own_job(
        self, http: httpx.AsyncClient, service: Any, session: Any, sim: Any
    ) -> None:
        s, tickets = await one_ticket_per_issue(session)
        shown = sim.create_issue("DEMO", "Printer on fire", user="jdoe")
        said = sim.add_comment(shown.key, "We are on it", user="jdoe")
        (commented,) = await make_tickets(session, s.catalog, 1)
        await link(session, s.instance, shown.id, shown.key, [commented])
        await session.commit()
        await a_change_to_each_issue(http, s)
        comment = cloud_comment_created(shown.id, shown.key, said.id, text="We are on it")
        assert (await deliver(http, s.instance_id, comment)).is_success

        # the first delivery with the other two; then the comment, read from Jira first
        assert await drain(service, 1) == 2

        assert await status_lines(session, tickets) == IN_PROGRESS_ONCE
        assert [a.jira_comment_id for a in await actions_of(session, commented)] == [said.id]
        assert await outcomes_in_order(session) == ["applied"] * (len(OTHER_ISSUES) + 1)

    async def test_a_failure_applying_one_leaves_each_to_be_applied_once(
        self,
        http: httpx.AsyncClient,
        service: Any,
        session: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Everything of the transaction is undone: the running job is retried, alone; the
        deliveries it took are still queued, untried, and each is applied once."""
        s, tickets = await one_ticket_per_issue(session)
        await a_change_to_each_issue(http, s)
        apply_parsed = apply._apply_parsed
        failures = [OTHER_ISSUES[-1][1]]  # the last issue's delivery fails once

        async def failing_once(tickets: Any, *args: Any) -> str:
            if tickets.issue.issue_key in failures:
                failures.remove(tickets.issue.issue_key)
                raise RuntimeError("the database went away")
            return await apply_parsed(tickets, *args)

        monkeypatch.setattr(apply, "_apply_parsed", failing_once)

        # the first with the other two, undone; the second with the third (the first waits)
        assert await drain(service, 1) == 2
        async with service.state.session_factory() as own:
            await own.execute(update(SyncJob).values(run_after=utcnow()))
            await own.commit()
        assert await drain(service, 1) == 1  # the first again, alone

        assert await status_lines(session, tickets) == IN_PROGRESS_ONCE
        assert await outcomes_in_order(session) == ["applied"] * len(OTHER_ISSUES)
        attempts = [job.attempts for job in await jobs_of_kind(service, ApplyWebhook.kind)]
        assert attempts == [2, 1, 1]


@pytest.mark.postgres  # SQLite has one writer at a time: no other transaction holds a row
async def test_an_issue_another_transaction_holds_is_left_to_its_own_job(
    http: httpx.AsyncClient, service: Any, session: Any
) -> None:
    """Its job is never waited for while the running job holds other issues' rows."""
    s, tickets = await one_ticket_per_issue(session)
    await a_change_to_each_issue(http, s)
    context = service.state.worker_context
    async with service.state.session_factory() as holding:
        held = await issue_row(holding, s.instance_id, OTHER_ISSUES[1][0], lock=True)
        assert held is not None
        async with context.transaction() as claiming:
            (first,) = await outbox.claim(claiming, context.worker_id, 1, 60)
        context.backlog = True
        await Worker(context, job_registry()).execute(first)
        assert [job.status for job in await jobs_of_kind(service, ApplyWebhook.kind)] == [
            JobStatus.DONE,
            JobStatus.QUEUED,
            JobStatus.DONE,
        ]
        await holding.rollback()

    assert await drain(service, 1) == 1
    assert await status_lines(session, tickets) == IN_PROGRESS_ONCE


async def test_only_a_job_with_deliveries_behind_it_looks_for_them(
    http: httpx.AsyncClient, service: Any, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first read says whether any job waits behind it: alone, it asks nothing more."""
    looked: list[int] = []
    queued_behind = behind.queued_behind

    async def counted(session: Any, job_id: int, *args: Any) -> list[SyncJob]:
        looked.append(job_id)
        return await queued_behind(session, job_id, *args)

    monkeypatch.setattr(behind, "queued_behind", counted)
    s = await linked_world(session, 1)
    assert (await deliver(http, s.instance_id, change("To Do", "In Progress", 1, 1))).is_success
    assert await drain(service) == 1
    assert looked == []

    for n, (old, new) in enumerate([("In Progress", "Done"), ("Done", "Open")]):
        assert (await deliver(http, s.instance_id, change(old, new, n + 2, n + 2))).is_success
    assert await drain(service) == 1
    assert len(looked) == 1
    assert await outcomes_in_order(session) == ["applied"] * 3
