"""The job outbox and worker: order, retries, failures, leases, wake-ups, several workers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from app.core.backoff import Backoff
from app.core.db import (
    asyncpg_dsn,
    create_engine,
    session_factory,
    single_statement_sessions,
    utcnow,
)
from app.core.security import SecretBox
from app.integration.services import Services
from app.jira.pool import JiraClientPool
from app.jobs import outbox as jobs
from app.jobs.context import WorkerContext
from app.jobs.kinds import (
    Failure,
    FailureReason,
    Job,
    JobError,
    JobPayload,
    JobRegistry,
    PeriodicPayload,
)
from app.jobs.maintenance import ensure_periodic
from app.jobs.models import JobStatus, SyncJob
from app.jobs.runner import running_worker
from app.jobs.wakeup import Waker, notifying_other_processes
from app.jobs.worker import CLAIM_BACKOFF, Worker
from app.wiring import job_registry
from tests.support.live import free_port


class Step(JobPayload):
    """A test job: `n` and `name` say which one it is, `key` orders it with others."""

    kind = "test.step"
    n: int = 0
    name: str = ""
    key: str | None = None

    def ordering_key(self) -> str | None:
        return self.key


class Tick(PeriodicPayload):
    kind = "test.tick"


def kind(name: str) -> type[Step]:
    """A test job kind of this name (kinds are classes; tests need a few of them)."""
    made: type[Step] = type(name.replace(".", "_"), (Step,), {"kind": name})
    return made


def make_context(engine: Any, settings: Any, worker_id: str = "w1") -> WorkerContext[Services]:
    sessions = session_factory(engine)
    return WorkerContext(
        settings=settings,
        sessions=sessions,
        claim_sessions=single_statement_sessions(sessions),
        waker=Waker(),
        worker_id=worker_id,
        services=Services(
            jira=JiraClientPool.from_settings(settings),
            secrets=SecretBox(settings.secret_key.get_secret_value()),
        ),
    )


async def add_jobs(ctx: WorkerContext[Any], *specs: tuple[str, dict[str, Any], str | None]) -> None:
    async with ctx.transaction() as session:
        for name, payload, key in specs:
            await jobs.enqueue(session, kind(name)(**payload, key=key))


def endless_job(registry: JobRegistry) -> tuple[asyncio.Event, asyncio.Event]:
    """Registers `test.endless`, a job that runs until it is cancelled; set when it started, and
    when it was cancelled."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def endless(_ctx: Any, _job: Job[Any]) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    registry.register(kind("test.endless"), endless)
    return started, cancelled


async def all_jobs(ctx: WorkerContext) -> list[SyncJob]:
    async with ctx.transaction() as session:
        return list((await session.scalars(select(SyncJob).order_by(col(SyncJob.id)))).all())


class TestDrain:
    async def test_runs_each_job_once_and_marks_it_done(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        seen: list[int] = []
        registry = JobRegistry()

        async def record(_ctx: Any, job: Job[Any]) -> None:
            seen.append(job.payload.n)

        registry.register(kind("test.record"), record)
        await add_jobs(ctx, *[("test.record", {"n": n}, None) for n in range(5)])
        assert await Worker(ctx, registry).drain() == 5
        assert sorted(seen) == [0, 1, 2, 3, 4]
        assert {job.status for job in await all_jobs(ctx)} == {JobStatus.DONE}
        assert await Worker(ctx, registry).drain() == 0

    async def test_jobs_with_one_ordering_key_run_in_order(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        order: list[str] = []
        registry = JobRegistry()

        async def record(_ctx: Any, job: Job[Any]) -> None:
            await asyncio.sleep(0)  # give a concurrently claimed job the chance to overtake
            order.append(job.payload.name)

        registry.register(kind("test.record"), record)
        await add_jobs(
            ctx,
            ("test.record", {"name": "create"}, "ticket:1"),
            ("test.record", {"name": "comment-1"}, "ticket:1"),
            ("test.record", {"name": "comment-2"}, "ticket:1"),
        )
        async with ctx.transaction() as session:
            first_batch = await jobs.claim(session, "w1", 10, 60)
        assert [job.payload["name"] for job in first_batch] == ["create"]
        await Worker(ctx, registry).execute(first_batch[0])
        await Worker(ctx, registry).drain()
        assert order == ["create", "comment-1", "comment-2"]


class TestFailures:
    async def test_transient_error_is_retried_later_with_backoff(
        self, db: Any, make_settings: Any
    ) -> None:
        # A base delay no drain can outlast, so the retry is never due again inside this test
        # however slow the machine (a 0.5 s base once let a slow CI run claim it twice).
        settings = make_settings(job_retry_base_seconds=60.0, job_retry_max_seconds=600.0)
        ctx = make_context(db, settings)
        registry = JobRegistry()

        async def flaky(_ctx: Any, _job: Job[Any]) -> None:
            raise JobError("Jira is down", transient=True)

        registry.register(kind("test.flaky"), flaky)
        await add_jobs(ctx, ("test.flaky", {}, None))
        before = utcnow()
        await Worker(ctx, registry, rng=random.Random(1)).drain()
        (job,) = await all_jobs(ctx)
        assert job.status == JobStatus.QUEUED
        assert job.attempts == 1
        assert job.last_error == "Jira is down"
        # first retry: jittered between half and all of the base delay
        assert timedelta(seconds=30) <= job.run_after - before <= timedelta(seconds=65)

    async def test_done_marked_by_a_handler_whose_transaction_failed_does_not_count(
        self, db: Any, settings: Any
    ) -> None:
        """The next attempt, ending without marking itself, is finished by the worker."""
        ctx = make_context(db, settings)
        registry = JobRegistry()

        async def marks_then_fails_once(job_ctx: Any, job: Job[Any]) -> None:
            if job.attempts == 1:
                async with job_ctx.transaction() as session:
                    await job_ctx.finish_in(session, job.id)
                    raise JobError("lost before the commit", transient=True, retry_after=0)

        registry.register(kind("test.marks"), marks_then_fails_once)
        await add_jobs(ctx, ("test.marks", {}, None))
        await Worker(ctx, registry).drain()
        (job,) = await all_jobs(ctx)
        assert (job.status, job.attempts) == (JobStatus.DONE, 2)

    async def test_retry_after_is_used_as_the_delay(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        registry = JobRegistry()

        async def limited(_ctx: Any, _job: Job[Any]) -> None:
            raise JobError("rate limited", transient=True, retry_after=120)

        registry.register(kind("test.limited"), limited)
        await add_jobs(ctx, ("test.limited", {}, None))
        before = utcnow()
        await Worker(ctx, registry).drain()
        (job,) = await all_jobs(ctx)
        assert timedelta(seconds=119) <= job.run_after - before <= timedelta(seconds=125)

    async def test_gives_up_after_max_attempts_and_reports(
        self, db: Any, make_settings: Any
    ) -> None:
        settings = make_settings(
            job_max_attempts=3, job_retry_base_seconds=0.0, job_retry_max_seconds=0.0
        )
        ctx = make_context(db, settings)
        registry = JobRegistry()
        reported: list[str] = []

        async def flaky(_ctx: Any, _job: Job[Any]) -> None:
            raise JobError("Jira is down", transient=True)

        async def report(_ctx: Any, _job: Job[Any], failure: Failure) -> None:
            reported.append(failure.message)
            assert failure.reason is FailureReason.GAVE_UP

        registry.register(kind("test.flaky"), flaky, on_failure=report)
        await add_jobs(ctx, ("test.flaky", {}, None))
        await Worker(ctx, registry).drain()
        (job,) = await all_jobs(ctx)
        assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
        assert reported == ["Gave up after 3 attempts: Jira is down"]

    async def test_permanent_error_fails_at_once(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        registry = JobRegistry()

        async def invalid(_ctx: Any, _job: Job[Any]) -> None:
            raise JobError("Severity is required.", transient=False)

        registry.register(kind("test.invalid"), invalid)
        await add_jobs(ctx, ("test.invalid", {}, None))
        await Worker(ctx, registry).drain()
        (job,) = await all_jobs(ctx)
        assert (job.status, job.attempts, job.last_error) == (
            JobStatus.FAILED,
            1,
            "Severity is required.",
        )

    async def test_a_permanent_failure_reaches_the_failure_handler_as_such(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        registry = JobRegistry()
        failures: list[Failure] = []

        async def invalid(_ctx: Any, _job: Job[Any]) -> None:
            raise JobError("Severity is required.", transient=False)

        async def report(_ctx: Any, _job: Job[Any], failure: Failure) -> None:
            failures.append(failure)

        registry.register(kind("test.invalid"), invalid, on_failure=report)
        await add_jobs(ctx, ("test.invalid", {}, None))
        await Worker(ctx, registry).drain()
        assert failures == [Failure("Severity is required.", FailureReason.PERMANENT)]

    async def test_an_unreadable_payload_fails_at_once_and_says_why(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        registry = JobRegistry()
        ran: list[Any] = []

        async def record(_ctx: Any, job: Job[Any]) -> None:
            ran.append(job)

        registry.register(kind("test.record"), record)
        async with ctx.transaction() as session:
            session.add(SyncJob(kind="test.record", payload={"n": "not a number"}))
        await Worker(ctx, registry).drain()
        (job,) = await all_jobs(ctx)
        assert (job.status, job.attempts, ran) == (JobStatus.FAILED, 1, [])
        assert job.last_error is not None
        assert job.last_error.startswith("Unreadable test.record payload")

    async def test_unknown_kind_fails(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        await add_jobs(ctx, ("test.nobody", {}, None))
        await Worker(ctx, JobRegistry()).drain()
        (job,) = await all_jobs(ctx)
        assert job.status == JobStatus.FAILED


class TestLeases:
    async def test_a_job_whose_lease_ran_out_is_taken_again(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        await add_jobs(ctx, ("test.any", {}, None))
        async with ctx.transaction() as session:
            (claimed,) = await jobs.claim(session, "dead-worker", 10, 60)
        async with ctx.transaction() as session:
            assert await jobs.claim(session, "w2", 10, 60) == []
            await session.execute(update(SyncJob).values(lease_until=utcnow() - timedelta(1)))
        async with ctx.transaction() as session:
            (again,) = await jobs.claim(session, "w2", 10, 60)
        assert again.id == claimed.id
        assert (again.locked_by, again.attempts) == ("w2", 2)

    async def test_the_late_worker_cannot_finish_a_job_taken_over(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        await add_jobs(ctx, ("test.any", {}, None))
        async with ctx.transaction() as session:
            (claimed,) = await jobs.claim(session, "slow", 10, 60)
            await session.execute(update(SyncJob).values(lease_until=utcnow() - timedelta(1)))
        async with ctx.transaction() as session:
            await jobs.claim(session, "fast", 10, 60)
        async with ctx.transaction() as session:
            assert await jobs.finish(session, [claimed.id or 0], "slow") == 0


class TestLookahead:
    async def test_a_job_waiting_behind_a_running_one_is_not_due_until_that_one_ends(
        self, db: Any, settings: Any
    ) -> None:
        """Else an idle worker would ask for work again and again while the job waits: the
        worker that finishes the running one looks for work again instead."""
        ctx = make_context(db, settings)
        await add_jobs(ctx, ("test.first", {}, "k"), ("test.second", {}, "k"))
        async with ctx.transaction() as session:
            (running,) = await jobs.claim(session, "w1", 10, 60)
            ahead = await jobs.lookahead(session)
        assert ahead.waiting
        assert ahead.due is not None
        assert abs((ahead.due - running.lease_until).total_seconds()) < 1  # its lease only
        async with ctx.transaction() as session:
            await jobs.finish(session, [running.id or 0], "w1")
            ahead = await jobs.lookahead(session)
        assert not ahead.waiting  # the second one is first in line now
        assert ahead.due is not None
        assert ahead.due <= utcnow()  # and ready

    @pytest.mark.parametrize(
        ("queued", "waiting"),
        [
            ([("test.a", "k1"), ("test.a", "k2")], False),
            ([("test.a", None), ("test.a", None)], False),
            ([("test.a", "k1"), ("test.a", "k1")], True),
            ([("test.a", "k1"), ("test.b", "k1")], True),
        ],
    )
    async def test_waiting_means_two_jobs_of_one_ordering_key_still_to_run(
        self, db: Any, settings: Any, queued: list[tuple[str, str | None]], waiting: bool
    ) -> None:
        ctx = make_context(db, settings)
        await add_jobs(ctx, *[(name, {}, key) for name, key in queued])
        async with ctx.transaction() as session:
            assert (await jobs.lookahead(session)).waiting is waiting

    async def test_another_lanes_waiting_jobs_are_not_this_lanes(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        await add_jobs(ctx, ("test.a", {}, "k1"), ("test.a", {}, "k1"))
        async with ctx.transaction() as session:
            assert (await jobs.lookahead(session, kinds=["test.a"])).waiting
            assert not (await jobs.lookahead(session, kinds=["test.b"])).waiting
            assert not (await jobs.lookahead(session, other_kinds=["test.a"])).waiting


async def looks_again_after_its_job(worker: Worker) -> bool:
    """Claim (fewer jobs than free slots: one), let the job end, and tell whether the worker
    was woken to look for work again."""
    assert not await worker._claim_and_start(Backoff(asyncio.Event()))
    worker._wake.clear()
    (running,) = worker._running
    await running
    await asyncio.sleep(0)  # its done-callback runs
    return worker._wake.is_set()


class TestWakeUp:
    @pytest.mark.parametrize(("behind", "looks_again"), [(False, False), (True, True)])
    async def test_a_finished_job_has_its_worker_look_again_only_when_one_waits_behind_it(
        self, db: Any, settings: Any, behind: bool, looks_again: bool
    ) -> None:
        """With nothing waiting behind it, the claim that found fewer jobs than free slots
        already saw all there was: looking again would cost a claim per job for nothing."""
        ctx = make_context(db, settings)
        registry = JobRegistry()
        registry.register(kind("test.step"), lambda _ctx, _job: asyncio.sleep(0))
        await add_jobs(ctx, *[("test.step", {"n": n}, "k") for n in range(2 if behind else 1)])
        assert await looks_again_after_its_job(Worker(ctx, registry)) is looks_again

    async def test_a_job_that_failed_has_its_worker_look_again(
        self, db: Any, settings: Any
    ) -> None:
        """Its retry's moment is not in the lookahead the claim read."""
        ctx = make_context(db, settings)
        registry = JobRegistry()

        async def flaky(_ctx: Any, _job: Job[Any]) -> None:
            raise JobError("Jira is down", transient=True)

        registry.register(kind("test.flaky"), flaky)
        await add_jobs(ctx, ("test.flaky", {}, None))
        assert await looks_again_after_its_job(Worker(ctx, registry))

    async def test_a_committed_job_wakes_the_running_worker(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        done = asyncio.Event()
        registry = JobRegistry()

        async def signal(_ctx: Any, _job: Job[Any]) -> None:
            done.set()

        registry.register(kind("test.signal"), signal)
        stop = asyncio.Event()
        task = asyncio.create_task(Worker(ctx, registry).run(stop))
        await add_jobs(ctx, ("test.signal", {}, None))
        await asyncio.wait_for(done.wait(), 5)
        stop.set()
        await task

    async def test_periodic_job_reschedules_itself_once(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        async with running_worker(ctx, job_registry()):
            pass
        async with ctx.transaction() as session:
            await ensure_periodic(session, job_registry(), settings)
        pending = [job for job in await all_jobs(ctx) if job.status != JobStatus.DONE]
        # one pending run per periodic kind, however often the chains are ensured
        assert sorted(job.kind for job in pending) == sorted(job_registry().periodic)


class DownThenUp:
    """Sessions on a database that refuses connections for the first `failures` sessions."""

    def __init__(self, working: Any, failures: int) -> None:
        self.working = working
        self.failures = failures
        self.dead = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x")

    def __call__(self) -> Any:
        if self.failures > 0:
            self.failures -= 1
            return session_factory(self.dead)()
        return self.working()


class TestDatabaseLate:
    async def test_the_periodic_jobs_start_once_the_database_answers(
        self, db: Any, settings: Any
    ) -> None:
        sessions = DownThenUp(session_factory(db), failures=2)
        ctx = make_context(db, settings)
        ctx.sessions = sessions  # type: ignore[assignment]
        ticked = asyncio.Event()
        registry = JobRegistry()

        async def tick(_ctx: Any, _job: Job[Any]) -> None:
            ticked.set()

        registry.register_periodic(Tick, tick, lambda _settings: 3600.0)
        stop = asyncio.Event()
        running = asyncio.create_task(Worker(ctx, registry).run(stop))
        try:
            async with asyncio.timeout(30):
                await ticked.wait()
        finally:
            stop.set()
            await running
            await sessions.dead.dispose()
        assert sessions.failures == 0

    async def test_a_worker_waiting_for_its_database_stops_at_once(
        self, db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        claim_failed = asyncio.Event()

        async def unavailable(*_args: Any, **_kwargs: Any) -> Any:
            claim_failed.set()
            raise OSError("the database is away")

        monkeypatch.setattr(jobs, "claim_looking_ahead", unavailable)
        stop = asyncio.Event()
        running = asyncio.create_task(Worker(make_context(db, settings), JobRegistry()).run(stop))
        await claim_failed.wait()
        stop.set()
        async with asyncio.timeout(CLAIM_BACKOFF.base / 2):  # the pause is cut short
            await running


@pytest.mark.postgres
class TestSeveralWorkers:
    async def test_two_workers_never_run_the_same_job(self, db: Any, settings: Any) -> None:
        runs: dict[int, int] = {}
        registry = JobRegistry()

        async def count(_ctx: Any, job: Job[Any]) -> None:
            runs[job.payload.n] = runs.get(job.payload.n, 0) + 1
            await asyncio.sleep(0)

        registry.register(kind("test.count"), count)
        first, second = make_context(db, settings, "w1"), make_context(db, settings, "w2")
        await add_jobs(first, *[("test.count", {"n": n}, None) for n in range(200)])
        done = await asyncio.gather(
            Worker(first, registry).drain(), Worker(second, registry).drain()
        )
        assert sum(done) == 200
        assert runs == {n: 1 for n in range(200)}

    async def test_a_committed_job_notifies_other_processes(self, db: Any, settings: Any) -> None:
        """Workers in other processes hear of a committed job (the waker's NOTIFY), and of its
        kind: a lane that takes none of the kinds is not woken."""
        ctx = make_context(db, settings)
        async with listening_to_jobs(settings) as (_, heard):
            async with notifying_other_processes(ctx.waker, settings.database_url):
                async with ctx.transaction() as session:
                    await jobs.enqueue(session, kind("test.notify")())
                    await jobs.enqueue(session, kind("test.other")())
                    await jobs.enqueue(session, kind("test.notify")())
                payload = await asyncio.wait_for(heard.get(), 5)
        assert payload == "test.notify,test.other"  # one notification for the transaction

    async def test_a_job_insert_notifies_nobody_by_itself(self, db: Any, settings: Any) -> None:
        """PostgreSQL commits the transactions that NOTIFY one at a time, so the insert itself
        (e.g. every webhook delivery's) must not: the waker's notifier does, after it."""
        ctx = make_context(db, settings)
        async with listening_to_jobs(settings) as (listener, heard):
            async with ctx.transaction() as session:  # a waker with no notifier
                await jobs.enqueue(session, kind("test.quiet")())
            await listener.execute(f"NOTIFY {jobs.NOTIFY_CHANNEL}, 'after the insert'")
            # Notifications arrive in commit order: the insert's would have come first.
            assert await asyncio.wait_for(heard.get(), 5) == "after the insert"

    async def test_a_claim_is_committed_when_its_statement_ends(
        self, db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No BEGIN and COMMIT round trips around a claim (one statement, atomic by itself):
        the claimed job is running for every other connection as soon as the claim (and its
        lookahead) is read, before its session ends."""
        ctx = make_context(db, settings)
        registry = JobRegistry()
        registry.register(kind("test.a"), lambda _ctx, _job: asyncio.sleep(0))
        await add_jobs(ctx, ("test.a", {}, None))
        seen_elsewhere: list[str] = []
        claim_looking_ahead = jobs.claim_looking_ahead

        async def seen_before_the_session_ends(session: Any, *args: Any) -> Any:
            claimed = await claim_looking_ahead(session, *args)
            async with ctx.sessions() as other:
                seen_elsewhere.extend(await other.scalars(select(col(SyncJob.status))))
            return claimed

        monkeypatch.setattr(jobs, "claim_looking_ahead", seen_before_the_session_ends)
        worker = Worker(ctx, registry)
        assert not await worker._claim_and_start(Backoff(asyncio.Event()))  # a slot left free
        await asyncio.gather(*worker._running)
        assert seen_elsewhere == [JobStatus.RUNNING]
        assert [job.status for job in await all_jobs(ctx)] == [JobStatus.DONE]


@asynccontextmanager
async def listening_to_jobs(
    settings: Any,
) -> AsyncIterator[tuple[asyncpg.Connection, asyncio.Queue[str]]]:
    """A connection of its own LISTENing for committed jobs, and the payloads it hears."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        await listener.add_listener(jobs.NOTIFY_CHANNEL, lambda *args: heard.put_nowait(args[-1]))
        yield listener, heard
    finally:
        await listener.close()


class TestStopping:
    async def test_a_job_that_ends_within_the_grace_is_done(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings)
        registry = JobRegistry()
        started, release = asyncio.Event(), asyncio.Event()

        async def slow(_ctx: Any, _job: Job[Any]) -> None:
            started.set()
            await release.wait()

        registry.register(kind("test.slow"), slow)
        await add_jobs(ctx, ("test.slow", {}, None))
        stop = asyncio.Event()
        running = asyncio.create_task(Worker(ctx, registry).run(stop))
        await started.wait()
        stop.set()
        release.set()
        await asyncio.wait_for(running, 5)
        (job,) = await all_jobs(ctx)
        assert job.status == JobStatus.DONE

    async def test_a_job_still_running_after_the_grace_is_queued_again_at_once(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings.model_copy(update={"worker_stop_grace_seconds": 0.2}))
        registry = JobRegistry()
        started, cancelled = endless_job(registry)  # a Jira that never answers
        await add_jobs(ctx, ("test.endless", {}, None))
        stop = asyncio.Event()
        running = asyncio.create_task(Worker(ctx, registry).run(stop))
        await started.wait()
        stop.set()
        await asyncio.wait_for(running, 5)  # not the job's lease (60 s), nor forever
        assert cancelled.is_set()
        (job,) = await all_jobs(ctx)
        assert (job.status, job.locked_by, job.attempts) == (JobStatus.QUEUED, None, 1)
        assert job.run_after <= utcnow()  # ready for the next worker now

    async def test_a_periodic_job_cut_short_is_queued_again_and_not_scheduled_twice(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings.model_copy(update={"worker_stop_grace_seconds": 0.1}))
        registry = JobRegistry()
        started = asyncio.Event()

        async def endless(_ctx: Any, _job: Job[Any]) -> None:
            started.set()
            await asyncio.Event().wait()

        registry.register_periodic(Tick, endless, lambda _settings: 3600.0)
        stop = asyncio.Event()
        running = asyncio.create_task(Worker(ctx, registry).run(stop))
        await started.wait()
        stop.set()
        await asyncio.wait_for(running, 5)
        # the run cut short runs again (and then schedules the next): one row of the chain
        assert [(job.kind, job.status) for job in await all_jobs(ctx)] == [
            (Tick.kind, JobStatus.QUEUED)
        ]


class TestLeaseRenewal:
    async def test_a_job_longer_than_its_lease_keeps_it(self, db: Any, make_settings: Any) -> None:
        # A one-second lease renewed every third of it: slack for a busy CI machine.
        settings = make_settings(job_lease_seconds=1.0)
        ctx = make_context(db, settings)
        registry = JobRegistry()
        release = asyncio.Event()
        started = asyncio.Event()

        async def slow(_ctx: Any, _job: Job[Any]) -> None:
            started.set()
            await release.wait()

        registry.register(kind("test.slow"), slow)
        await add_jobs(ctx, ("test.slow", {}, None))
        async with ctx.transaction() as session:
            (job,) = await jobs.claim(session, "w1", 1, 1.0)
        running = asyncio.create_task(Worker(ctx, registry).execute(job))
        await started.wait()
        for _ in range(4):  # well past the first lease: another worker still finds nothing
            await asyncio.sleep(0.4)
            async with ctx.transaction() as session:
                assert await jobs.claim(session, "w2", 1, 1.0) == []
        release.set()
        await running
        (done,) = await all_jobs(ctx)
        assert (done.status, done.attempts) == (JobStatus.DONE, 1)

    async def test_a_job_whose_lease_was_taken_over_stops(self, db: Any, settings: Any) -> None:
        ctx = make_context(db, settings.model_copy(update={"job_lease_seconds": 0.3}))
        registry = JobRegistry()
        _, cancelled = endless_job(registry)
        await add_jobs(ctx, ("test.endless", {}, None))
        async with ctx.transaction() as session:
            (job,) = await jobs.claim(session, "w1", 1, 0.3)
            await session.execute(update(SyncJob).values(locked_by="someone-else"))
        await asyncio.wait_for(Worker(ctx, registry).execute(job), 5)
        assert cancelled.is_set()


class TestRecordingOutcomes:
    async def test_a_failed_write_of_the_outcome_is_retried(
        self, db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ctx = make_context(db, settings)
        registry = JobRegistry()
        runs: list[int] = []

        async def work(_ctx: Any, job: Job[Any]) -> None:
            runs.append(job.id or 0)

        registry.register(kind("test.work"), work)
        await add_jobs(ctx, ("test.work", {}, None))
        real_finish = jobs.finish
        failures = [ConnectionResetError("connection lost")]

        async def flaky_finish(*args: Any) -> bool:
            if failures:
                raise failures.pop()
            return await real_finish(*args)

        monkeypatch.setattr(jobs, "finish", flaky_finish)
        await Worker(ctx, registry).drain()
        (job,) = await all_jobs(ctx)
        assert (job.status, job.attempts, len(runs)) == (JobStatus.DONE, 1, 1)


class Slow(Step):
    kind = "test.slow"
    lane = "slow"


class Stubborn(Step):
    kind = "test.stubborn"
    retries_until_permanent = True


class TestLanes:
    async def test_a_full_lane_never_holds_up_another_lanes_jobs(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings.model_copy(update={"worker_concurrency": 1}))
        registry = JobRegistry()
        registry.add_lane("slow", lambda _settings: 1)
        release, done = asyncio.Event(), asyncio.Event()

        async def hang(_ctx: Any, _job: Job[Any]) -> None:
            await release.wait()

        async def quick(_ctx: Any, _job: Job[Any]) -> None:
            done.set()

        registry.register(Slow, hang)
        registry.register(kind("test.quick"), quick)
        async with running_worker(ctx, registry):
            async with ctx.transaction() as session:
                await jobs.enqueue(session, Slow(n=1))
                await jobs.enqueue(session, Slow(n=2))
                await jobs.enqueue(session, kind("test.quick")())
            await asyncio.wait_for(done.wait(), 5)
            release.set()

    async def test_a_job_of_no_known_kind_still_fails_and_frees_its_key(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings)
        registry = JobRegistry()
        registry.add_lane("slow", lambda _settings: 1)
        registry.register(Slow, lambda _ctx, _job: asyncio.sleep(0))
        after = asyncio.Event()

        async def next_one(_ctx: Any, _job: Job[Any]) -> None:
            after.set()

        registry.register(kind("test.after"), next_one)
        async with running_worker(ctx, registry):
            await add_jobs(ctx, ("test.gone", {}, "key"), ("test.after", {}, "key"))
            await asyncio.wait_for(after.wait(), 5)
        gone, _ = await all_jobs(ctx)
        assert (gone.status, gone.last_error) == (
            JobStatus.FAILED,
            "No handler for job kind 'test.gone'.",
        )

    def test_a_kind_in_an_unknown_lane_is_refused(self) -> None:
        async def run(_ctx: Any, _job: Job[Any]) -> None: ...

        with pytest.raises(ValueError, match="unknown lane"):
            JobRegistry().register(Slow, run)

    async def test_a_kind_that_gives_up_itself_outlives_job_max_attempts(
        self, db: Any, settings: Any
    ) -> None:
        ctx = make_context(db, settings.model_copy(update={"job_max_attempts": 2}))
        registry = JobRegistry()

        async def flaky(_ctx: Any, job: Job[Any]) -> None:
            if job.attempts < 4:
                raise JobError("not yet", transient=True, retry_after=0)

        registry.register(Stubborn, flaky)
        async with ctx.transaction() as session:
            await jobs.enqueue(session, Stubborn())
        await Worker(ctx, registry).drain()
        (job,) = await all_jobs(ctx)
        assert (job.status, job.attempts) == (JobStatus.DONE, 4)

    async def test_a_crash_is_retried_at_most_job_max_attempts_even_so(
        self, db: Any, settings: Any
    ) -> None:
        quick = {"job_max_attempts": 3, "job_retry_base_seconds": 0.0, "job_retry_max_seconds": 0.0}
        ctx = make_context(db, settings.model_copy(update=quick))
        registry = JobRegistry()
        failures: list[str] = []

        async def broken(_ctx: Any, _job: Job[Any]) -> None:
            raise RuntimeError("a bug")

        async def heard(_ctx: Any, _job: Job[Any], failure: Any) -> None:
            failures.append(failure.message)

        registry.register(Stubborn, broken, heard)
        async with ctx.transaction() as session:
            await jobs.enqueue(session, Stubborn())
        await Worker(ctx, registry).drain()
        (job,) = await all_jobs(ctx)
        assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
        assert failures == ["Gave up after 3 attempts: RuntimeError: a bug"]


class TestGivingWay:
    async def test_the_worker_starts_only_the_jobs_give_way_lets_it(
        self, db: Any, settings: Any
    ) -> None:
        """Inside `serve` the worker asks before each claim how many of its free slots to fill
        (one while requests are under way): with one, its jobs run one after another."""
        ctx = make_context(db, settings.model_copy(update={"worker_concurrency": 4}))
        registry = JobRegistry()
        running, most_at_once, done = 0, 0, asyncio.Event()
        asked: list[int] = []

        async def step(_ctx: Any, job: Job[Any]) -> None:
            nonlocal running, most_at_once
            running += 1
            most_at_once = max(most_at_once, running)
            for _ in range(3):
                await asyncio.sleep(0)  # another claim would start a job alongside
            running -= 1
            if job.payload.n == 5:
                done.set()

        async def one_at_a_time(free: int) -> int:
            asked.append(free)
            return min(free, 1)

        registry.register(kind("test.step"), step)
        await add_jobs(ctx, *[("test.step", {"n": n}, None) for n in range(1, 6)])
        async with running_worker(ctx, registry, give_way=one_at_a_time):
            await asyncio.wait_for(done.wait(), 5)
        assert most_at_once == 1
        assert max(asked) == 4  # it asked with every free slot
        assert {job.status for job in await all_jobs(ctx)} == {JobStatus.DONE}
