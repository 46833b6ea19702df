"""Jobs taken from behind a running job in its ordering key (`jobs/behind.py`): claimed as
running with its lease, renewed with it, done with it or queued again on their own."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import update
from sqlmodel import col

from app.core.db import utcnow
from app.jobs import outbox as jobs
from app.jobs.kinds import Job, JobRegistry
from app.jobs.models import JobStatus, SyncJob
from app.jobs.worker import Worker
from tests.jobs.test_worker import Step, add_jobs, all_jobs, kind, make_context

KEY = "ticket:1"
LATENCY = "sync_job_latency_seconds_count"


def sample(metric: str, kind: str) -> float:
    return REGISTRY.get_sample_value(metric, {"kind": kind}) or 0.0


async def claim_first(ctx: Any) -> SyncJob:
    async with ctx.transaction() as session:
        (first, *_) = await jobs.claim(session, ctx.worker_id, 1, ctx.settings.job_lease_seconds)
    return first


async def first_of_pushes(ctx: Any, count: int) -> SyncJob:
    """`count` jobs `test.push` (n = 0, 1, …) sharing one ordering key; the first claimed."""
    await add_jobs(ctx, *[("test.push", {"n": n}, KEY) for n in range(count)])
    return await claim_first(ctx)


class Undone(Exception):
    """Rolls a test's transaction back."""


def typed(row: SyncJob) -> Job[Step]:
    return Job(
        row.id or 0, row.attempts, row.created_at, kind(row.kind).model_validate(row.payload)
    )


class TestTakeBehind:
    async def test_the_jobs_of_its_kind_right_behind_are_claimed_with_their_attempt(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        await add_jobs(
            ctx,
            *[("test.push", {"n": n}, KEY) for n in range(3)],
            ("test.other", {"n": 3}, KEY),
            ("test.push", {"n": 4}, KEY),
            ("test.push", {"n": 5}, "ticket:2"),
        )
        first = await claim_first(ctx)
        async with ctx.transaction() as session:
            taken = await ctx.take_behind(session, typed(first), 10)
        assert [one.payload.n for one in taken] == [1, 2]  # up to the job of another kind
        rows = {row.id: row for row in await all_jobs(ctx)}
        for one in taken:
            row = rows[one.id]
            assert (row.status, row.attempts, row.locked_by) == (JobStatus.RUNNING, 1, "w1")
            assert row.lease_until is not None
            assert row.lease_until > utcnow()
        assert [row.status for row in rows.values()][3:] == [JobStatus.QUEUED] * 3
        assert ctx.taken_by[first.id or 0] == [one.id for one in taken]

    async def test_at_most_the_limit_and_never_a_job_tried_before(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        first = await first_of_pushes(ctx, 5)
        with contextlib.suppress(Undone):
            async with ctx.transaction() as session:
                taken = await ctx.take_behind(session, typed(first), 1)
                assert [one.payload.n for one in taken] == [1]
                raise Undone
        rows = await all_jobs(ctx)
        async with ctx.transaction() as session:
            await session.execute(
                update(SyncJob).where(col(SyncJob.id) == rows[3].id).values(attempts=1)
            )
            taken = await ctx.take_behind(session, typed(first), 9)
            assert [one.payload.n for one in taken] == [1, 2]

    async def test_never_past_a_job_a_dead_worker_left_running(
        self, db: Any, settings: Any
    ) -> None:
        """A worker died holding the first job and those it took: the first, run again, takes
        none of the jobs queued behind the ones still marked running (they would overtake them);
        those run again, in order, each when its turn comes."""
        ctx = make_context(db, settings)
        dead = make_context(db, settings, worker_id="dead")
        first = await first_of_pushes(dead, 4)
        async with dead.transaction() as session:
            assert len(await dead.take_behind(session, typed(first), 1)) == 1
        async with ctx.transaction() as session:
            await session.execute(update(SyncJob).values(lease_until=utcnow()))  # run out
        again = await claim_first(ctx)
        assert (again.id, again.attempts) == (first.id, 2)
        async with ctx.transaction() as session:
            assert await ctx.take_behind(session, typed(again), 10) == []

    async def test_the_worker_renews_their_leases_with_the_running_jobs(
        self, db: Any, make_settings: Any
    ) -> None:
        # A one-second lease renewed every third of it: slack for a busy CI machine.
        ctx = make_context(db, make_settings(job_lease_seconds=1.0))
        release, took = asyncio.Event(), asyncio.Event()

        async def push_together(own: Any, job: Job[Any]) -> None:
            async with own.transaction() as session:
                taken = await own.take_behind(session, job, 10)
            took.set()
            await release.wait()
            async with own.transaction() as session:
                await own.finish_in(session, job.id, taken)

        registry = JobRegistry()
        registry.register(kind("test.push"), push_together)
        running = asyncio.create_task(Worker(ctx, registry).execute(await first_of_pushes(ctx, 3)))
        await took.wait()
        for _ in range(4):  # well past the first lease: all three are still this worker's
            await asyncio.sleep(0.4)
            held = await all_jobs(ctx)
            assert [row.status for row in held] == [JobStatus.RUNNING] * 3
            assert all(row.lease_until and row.lease_until > utcnow() for row in held)
        release.set()
        await running
        rows = await all_jobs(ctx)
        assert [(row.status, row.attempts) for row in rows] == [(JobStatus.DONE, 1)] * 3
        assert ctx.taken_by == {}

    async def test_the_jobs_done_with_it_count_as_done(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        name = "test.counted"

        async def push_together(own: Any, job: Job[Any]) -> None:
            async with own.transaction() as session:
                await own.finish_in(session, job.id, await own.take_behind(session, job, 10))

        registry = JobRegistry()
        registry.register(kind(name), push_together)
        await add_jobs(ctx, *[(name, {"n": n}, KEY) for n in range(3)])
        done, waited = sample("sync_jobs_done_total", name), sample(LATENCY, name)
        await Worker(ctx, registry).execute(await claim_first(ctx))
        assert sample("sync_jobs_done_total", name) - done == 3
        assert sample(LATENCY, name) - waited == 3
        assert ctx.done_with == {}


class TestReleaseTaken:
    async def test_untried_jobs_are_as_they_were_and_the_failed_one_keeps_its_attempt(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        first = await first_of_pushes(ctx, 4)
        async with ctx.transaction() as session:
            failed, *untried = await ctx.take_behind(session, typed(first), 10)
            await ctx.release_taken(session, untried, failed, error="boom", retry_after=60)
            await ctx.finish_in(session, first.id or 0)
        done, *released = await all_jobs(ctx)
        assert done.status == JobStatus.DONE
        assert [(row.status, row.attempts, row.locked_by) for row in released] == [
            (JobStatus.QUEUED, 1, None),
            (JobStatus.QUEUED, 0, None),
            (JobStatus.QUEUED, 0, None),
        ]
        assert released[0].last_error == "boom"
        assert released[0].run_after > utcnow() + timedelta(seconds=50)
        async with ctx.transaction() as session:  # behind the failed one: none is ready
            assert await jobs.claim(session, "w2", 5, 1.0) == []

    async def test_a_job_another_worker_took_over_is_left_alone(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        first = await first_of_pushes(ctx, 2)
        async with ctx.transaction() as session:
            (second,) = await ctx.take_behind(session, typed(first), 10)
            await session.execute(
                update(SyncJob).where(col(SyncJob.id) == second.id).values(locked_by="w2")
            )
        async with ctx.transaction() as session:
            await ctx.release_taken(session, [second])
        row = (await all_jobs(ctx))[1]
        assert (row.status, row.locked_by, row.attempts) == (JobStatus.RUNNING, "w2", 1)
