"""The sync worker: claims ready jobs, runs them concurrently, retries or fails them, and sleeps
until it is woken (never on a polling timer; the only timeout is the next scheduled moment)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.backoff import Backoff, BackoffPolicy, Jitter
from app.core.db import utcnow
from app.core.logging import get_logger
from app.jobs import outbox as jobs
from app.jobs.context import WorkerContext
from app.jobs.finisher import Finisher
from app.jobs.kinds import (
    DEFAULT_LANE,
    Failure,
    FailureReason,
    Handler,
    Job,
    JobError,
    JobRegistry,
)
from app.jobs.maintenance import ensure_periodic
from app.jobs.metrics import JOB_LATENCY, JOBS_DONE, JOBS_FAILED, JOBS_RETRIED
from app.jobs.models import SyncJob

log = get_logger(__name__)


GiveWay = Callable[[int], Awaitable[int]]
"""Inside `serve`: awaited before a claim with the free slots; how many to fill now, once the
requests under way have the event loop they need (`core/foreground.py`)."""


class LeaseLost(Exception):
    """The job's lease ran out and another worker claimed it."""


IDLE_CHECK_SECONDS = 30.0
RECORD_ATTEMPTS = 6
# Writing a job's outcome while the database is away: 0.1 s, 0.2 s, … up to 2 s.
RECORD_BACKOFF = BackoffPolicy(0.1, 2.0)
# The database did not answer a claim: ask again each second (cut short when the worker stops).
CLAIM_BACKOFF = BackoffPolicy(1.0, 1.0)


class Worker:
    """Works one lane's jobs (`lane`), or every kind (None: one-shot runs and tests)."""

    def __init__(
        self,
        ctx: WorkerContext[Any],
        registry: JobRegistry,
        rng: random.Random | None = None,
        lane: str | None = None,
        give_way: GiveWay | None = None,
    ) -> None:
        self.ctx = ctx
        self.give_way = give_way
        self.registry = registry
        self.rng = rng or random.Random()
        self.lane = lane
        # The default lane takes every kind but the other lanes' (an unknown kind too, so it
        # fails visibly instead of waiting forever); another lane only its own.
        self.kinds = registry.lane_kinds(lane) if lane not in (None, DEFAULT_LANE) else None
        self.other_kinds = (
            [
                k
                for name in registry.lanes
                if name != DEFAULT_LANE
                for k in registry.lane_kinds(name)
            ]
            if lane == DEFAULT_LANE
            else []
        )
        self.slots = (
            registry.lane_slots(lane, ctx.settings)
            if lane is not None
            else ctx.settings.worker_concurrency
        )
        self._wake = ctx.waker.channel(self._takes)
        self.retry_policy = BackoffPolicy(
            ctx.settings.job_retry_base_seconds, ctx.settings.job_retry_max_seconds, Jitter.HALF
        )
        self._running: dict[asyncio.Task[None], SyncJob] = {}
        self._finisher = Finisher(self._write_done)
        # Read with a claim that found fewer jobs than it could take: when the next becomes
        # ready, and whether one waits behind another. None: the claim filled its slots (or
        # a job did not end well), so more may be ready when a job finishes.
        self._lookahead: jobs.Lookahead | None = None

    def _takes(self, kind: str) -> bool:
        return kind in self.kinds if self.kinds is not None else kind not in self.other_kinds

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; then let the jobs in hand finish."""
        log.info(
            "sync.worker.started",
            worker=self.ctx.worker_id,
            lane=self.lane,
            kinds=self.kinds or [k for k in self.registry.kinds if k not in self.other_kinds],
        )
        stop_waiter: asyncio.Future[bool] = asyncio.ensure_future(stop.wait())
        claim_backoff = Backoff(stop, CLAIM_BACKOFF)
        try:
            if self.lane in (None, DEFAULT_LANE):
                await self._start_periodic_chains(stop)
            while not stop.is_set():
                # Wakes from here on may be about jobs this claim does not see yet: they are
                # kept; the earlier ones are about jobs it does see, and are dropped.
                self._wake.clear()
                if await self._claim_and_start(claim_backoff):
                    continue  # every free slot got a job: there may be more ready
                await self._wait_for_work(stop_waiter)
        finally:
            stop_waiter.cancel()
            if self._running:
                await self._let_running_end()
            log.info("sync.worker.stopped", worker=self.ctx.worker_id)

    async def _let_running_end(self) -> None:
        """The jobs in hand get WORKER_STOP_GRACE_SECONDS to end. Those still running then (a
        Jira or a receiver that does not answer) are cancelled and queued again at once, with
        the jobs they took, for this or another worker: their attempt stays counted, so a call
        they may have made is looked for first. A stop is never held up for a timeout's length."""
        grace = self.ctx.settings.worker_stop_grace_seconds
        _, late = await asyncio.wait(set(self._running), timeout=grace)
        if not late:
            return
        held = [self._running[task].id or 0 for task in late]
        held += [taken for job_id in held for taken in self.ctx.taken_by.get(job_id, ())]
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        log.warning("sync.worker.jobs_interrupted", job_ids=held, grace_seconds=grace)
        await self._record(
            held, lambda session: jobs.requeue_held(session, held, self.ctx.worker_id)
        )

    async def _start_periodic_chains(self, stop: asyncio.Event) -> None:
        """Queue each periodic job's first run (unless one is queued). The process may start
        before its database does (a container platform starts them in any order), so this is
        tried again, with backoff, until the database answers or the worker is stopped."""
        backoff = Backoff(stop)
        while not stop.is_set():
            try:
                async with self.ctx.transaction() as session:
                    await ensure_periodic(session, self.registry, self.ctx.settings)
                return
            except (OSError, DBAPIError) as exc:
                log.warning(
                    "sync.worker.database_unavailable",
                    error=type(exc).__name__,
                    retry_in=backoff.delay,
                )
            await backoff.pause()

    async def drain(self) -> int:
        """Run jobs until none is ready (used by tests and one-shot runs); returns how many."""
        total = 0
        while True:
            async with self.ctx.one_statement() as session:
                batch = await jobs.claim(
                    session,
                    self.ctx.worker_id,
                    self.slots,
                    self.ctx.settings.job_lease_seconds,
                    self.kinds,
                    self.other_kinds,
                )
            if not batch:
                return total
            self._claimed(batch, self.slots)
            total += len(batch)
            await asyncio.gather(*(self.execute(job) for job in batch))

    async def _claim_and_start(self, backoff: Backoff) -> bool:
        """Claim ready jobs into the free slots (as many as `give_way` lets it) and start them;
        True when they filled those slots (others may be ready), False when fewer were ready
        (or no slot was free)."""
        free = self.slots - len(self._running)
        if free <= 0:
            return False
        if self.give_way is not None:
            free = await self.give_way(free)
        try:
            async with self.ctx.one_statement() as session:
                batch, self._lookahead = await jobs.claim_looking_ahead(
                    session,
                    self.ctx.worker_id,
                    free,
                    self.ctx.settings.job_lease_seconds,
                    self.kinds,
                    self.other_kinds,
                )
        except Exception:
            log.exception("sync.worker.claim_failed")
            await backoff.pause()  # the database is unavailable
            self._wake.set()  # ask again
            return False
        backoff.reset()
        self._claimed(batch, free)
        for job in batch:
            task = asyncio.create_task(self.execute(job))
            self._running[task] = job
            task.add_done_callback(self._job_finished)
        return len(batch) == free

    def _claimed(self, batch: Sequence[SyncJob], free: int) -> None:
        """A claim took `batch` into `free` slots: when it filled them all, more jobs may be
        waiting for one (`WorkerContext.backlog`)."""
        self.ctx.backlog = 0 < len(batch) == free

    def _job_finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        # A slot is free: look for work when more may be ready, or a job waits behind one of
        # this lane's (jobs sharing an ordering key are of one lane). Jobs committed since the
        # claim woke it already; each wake's claim reads the lookahead anew.
        if self._lookahead is None or self._lookahead.waiting:
            self._wake.set()

    async def _wait_for_work(self, stop_waiter: asyncio.Future[bool]) -> None:
        timeout = IDLE_CHECK_SECONDS
        due = self._lookahead.due if self._lookahead is not None else None
        if len(self._running) < self.slots and due is not None:
            timeout = max(0.0, min(timeout, (due - utcnow()).total_seconds()))
        wake: asyncio.Future[None] = asyncio.ensure_future(self.ctx.waker.wait(timeout, self._wake))
        waiting: set[asyncio.Future[Any]] = {wake, stop_waiter}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        wake.cancel()

    async def execute(self, job: SyncJob) -> None:
        # What an earlier attempt's handler marked, in a transaction that did not commit, is
        # not this attempt's.
        self.ctx.finished_by_handler.discard(job.id or 0)
        kind = self.registry.get(job.kind)
        bound = log.bind(job_id=job.id, kind=job.kind, attempt=job.attempts)
        typed: Job[Any] | None = None
        done_with: list[datetime] = []  # when the jobs its handler did with it were created
        try:
            if kind is None:
                raise JobError(f"No handler for job kind {job.kind!r}.", transient=False)
            typed = self._typed(job)
            try:
                await self._run_holding_lease(kind.run, typed)
            except LeaseLost:
                raise  # the worker that took the job over schedules the next run
            except Exception:
                await self._schedule_next_run(job.kind)
                raise  # (cancelled, the worker stopping: it runs again and schedules then)
            finally:
                self.ctx.taken_by.pop(typed.id, None)
                done_with = self.ctx.done_with.pop(typed.id, [])
            await self._schedule_next_run(job.kind)
        except LeaseLost:
            bound.warning("sync.job.lease_lost")  # another worker has it now; let it finish
            self._lookahead = None
            return
        except JobError as exc:
            await self._failed(job, typed, exc.message, exc.transient, exc.retry_after)
            return
        except Exception as exc:
            bound.exception("sync.job.crashed")
            await self._failed(job, typed, f"{type(exc).__name__}: {exc}", True, None, crashed=True)
            return
        if job.id in self.ctx.finished_by_handler:
            self.ctx.finished_by_handler.discard(job.id)
        else:
            await self._finisher.finish(job)
        JOBS_DONE.labels(job.kind).inc(1 + len(done_with))
        now = utcnow()
        for created_at in (job.created_at, *done_with):
            JOB_LATENCY.labels(job.kind).observe((now - created_at).total_seconds())
        bound.debug("sync.job.done")  # the job's own lines (and metrics) tell what it did

    async def _write_done(self, finished: list[SyncJob]) -> None:
        ids = [job.id or 0 for job in finished]
        await self._record(ids, lambda session: jobs.finish(session, ids, self.ctx.worker_id))

    async def _record(
        self, job_ids: list[int], write: Callable[[AsyncSession], Awaitable[object]]
    ) -> None:
        """Write a job's outcome, retrying briefly when the database is away, so a finished
        job does not sit RUNNING until its lease runs out (and then run again)."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                async with self.ctx.transaction() as session:
                    await write(session)
                return
            except Exception:
                if attempt == RECORD_ATTEMPTS - 1:
                    log.exception("sync.job.outcome_not_recorded", job_ids=job_ids)
                    return
                await asyncio.sleep(RECORD_BACKOFF.delay(attempt + 1))

    def _typed(self, job: SyncJob) -> Job[Any]:
        kind = self.registry.get(job.kind)
        assert kind is not None
        try:
            payload = kind.payload_type.model_validate(job.payload)
        except ValidationError as exc:
            raise JobError(f"Unreadable {job.kind} payload: {exc}", transient=False) from exc
        return Job(job.id or 0, job.attempts, job.created_at, payload)

    async def _schedule_next_run(self, kind: str) -> None:
        if kind not in self.registry.periodic:
            return
        payload_type, interval = self.registry.periodic[kind]
        seconds = interval(self.ctx.settings)
        if seconds > 0:
            async with self.ctx.transaction() as session:
                await jobs.enqueue(
                    session, payload_type(), run_after=utcnow() + timedelta(seconds=seconds)
                )

    async def _run_holding_lease(self, run: Handler[Any], job: Job[Any]) -> None:
        """Run a job while renewing its lease, so a long job (e.g. waiting out a Retry-After)
        is never taken over by another worker; if the lease is lost anyway (the database was
        unreachable for a whole lease), stop rather than race the worker that took it."""
        task: asyncio.Future[None] = asyncio.ensure_future(run(self.ctx, job))
        lease = self.ctx.settings.job_lease_seconds
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=lease / 3)
                if done:
                    task.result()  # re-raises the job's own error
                    return
                try:
                    held = [job.id, *self.ctx.taken_by.get(job.id, ())]
                    async with self.ctx.transaction() as session:
                        renewed = await jobs.renew_leases(session, held, self.ctx.worker_id, lease)
                except Exception:
                    log.warning("sync.job.lease_renewal_failed", job_id=job.id)
                    continue
                if job.id not in renewed:
                    raise LeaseLost
        except (LeaseLost, asyncio.CancelledError):  # the job is no longer this worker's to run
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise

    async def _failed(
        self,
        job: SyncJob,
        typed: Job[Any] | None,
        message: str,
        transient: bool,
        retry_after: float | None,
        *,
        crashed: bool = False,
    ) -> None:
        """Retry later or fail; a failed job's kind hears of it when its payload could be read.
        A crash (not a JobError) is retried at most JOB_MAX_ATTEMPTS times, whatever the kind."""
        settings = self.ctx.settings
        self._lookahead = None  # its retry's moment, or its key freed: look again when it ends
        bound = log.bind(job_id=job.id, kind=job.kind, attempt=job.attempts, error=message)
        unlimited = typed is not None and typed.payload.retries_until_permanent and not crashed
        if transient and (unlimited or job.attempts < settings.job_max_attempts):
            delay = (
                retry_after
                if retry_after is not None
                else self.retry_policy.delay(job.attempts, self.rng.random)
            )
            await self._record(
                [job.id or 0],
                lambda session: jobs.retry_later(session, job, self.ctx.worker_id, message, delay),
            )
            JOBS_RETRIED.labels(job.kind).inc()
            bound.warning("sync.job.retry", delay=round(delay, 3))
            return
        reason = FailureReason.GAVE_UP if transient else FailureReason.PERMANENT
        if transient:
            message = f"Gave up after {job.attempts} attempts: {message}"
        await self._record(
            [job.id or 0], lambda session: jobs.fail(session, job, self.ctx.worker_id, message)
        )
        JOBS_FAILED.labels(job.kind).inc()
        bound.error("sync.job.failed")
        kind = self.registry.get(job.kind)
        if kind is not None and kind.on_failure is not None and typed is not None:
            try:
                await kind.on_failure(self.ctx, typed, Failure(message, reason))
            except Exception:
                bound.exception("sync.job.failure_handler_crashed")
