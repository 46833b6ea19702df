"""Deliveries about one issue queued together are applied by one job, each exactly as its own
job would apply it: the same tickets, History, actions, sync logs and outcomes, whether they
arrive one at a time or as a burst (a backlog, or Jira sending quickly)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlmodel import col

from app.inbox.models import WebhookDelivery
from app.integration.inbound import apply
from app.integration.job_kinds import ApplyWebhook, RefreshIssue
from app.jobs import behind, outbox
from app.jobs.models import JobStatus, SyncJob
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
from tests.support.world import ISSUE_ID, ISSUE_KEY, linked_world

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
