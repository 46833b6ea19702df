"""What a job handler gets: settings, transactions, and the long-lived services of the features
(`services`, e.g. the Jira client pool; the jobs package knows nothing of what they are)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import transaction
from app.core.settings import Settings
from app.jobs import behind, last_write, outbox
from app.jobs.kinds import Job, PayloadT
from app.jobs.last_write import LastWrite
from app.jobs.models import SyncJob
from app.jobs.wakeup import Waker

ServicesT = TypeVar("ServicesT")


@dataclass
class WorkerContext(Generic[ServicesT]):
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    waker: Waker
    worker_id: str
    services: ServicesT
    # Jobs their handler marked done in its own transaction (`finish_in`).
    finished_by_handler: set[int] = field(default_factory=set)
    # The jobs a running job took from behind it (`take_behind`), by its id: the worker renews
    # their leases with its own.
    taken_by: dict[int, list[int]] = field(default_factory=dict)
    # When the jobs done with a running job were created, by its id: counted with it.
    done_with: dict[int, list[datetime]] = field(default_factory=dict)
    # The worker's last claim filled every free slot: more jobs may be waiting for one, so a
    # handler may do some of them with its own (`jobs/alongside.py`).
    backlog: bool = False
    # Where a statement atomic by itself runs, if not in a unit of work (`one_statement`).
    claim_sessions: async_sessionmaker[AsyncSession] | None = None

    async def finish_in(
        self,
        session: AsyncSession,
        job_id: int,
        taken: Sequence[Job[Any]] = (),
        *,
        last: Sequence[LastWrite] = (),
    ) -> int:
        """Mark the running job (and jobs it took, `take_behind`) done in the handler's last
        transaction: done exactly when its work commits; the worker has nothing more to write.
        `last`, the handler's last writes, are made with it (`last_write`: one statement on
        PostgreSQL); how many rows the first changed."""
        job_ids = [job_id, *(one.id for one in taken)]
        written = 0
        if not last:
            await outbox.finish(session, job_ids, self.worker_id)
        else:
            written = await last_write.write_and_finish(session, last, job_ids, self.worker_id)
        self.finished_by_handler.add(job_id)
        self._done_with(job_id, [one.created_at for one in taken])
        return written

    async def write_and_finish(self, job_id: int, last: LastWrite) -> int:
        """The running job's last write and the job done, on their own (`one_statement`): on
        PostgreSQL one statement that commits by itself. How many rows the write changed."""
        async with self.one_statement() as session:
            return await self.finish_in(session, job_id, last=[last])

    async def finish_taken(
        self, session: AsyncSession, job_id: int, queued: Sequence[SyncJob]
    ) -> None:
        """Mark jobs queued behind the running job, whose work it did in this transaction, done
        (`behind.finish_taken`)."""
        await behind.finish_taken(session, [row.id or 0 for row in queued], self.worker_id)
        self._done_with(job_id, [row.created_at for row in queued])

    def _done_with(self, job_id: int, created: list[datetime]) -> None:
        if created:  # nothing to keep for the usual job, done alone
            self.done_with.setdefault(job_id, []).extend(created)

    async def take_behind(
        self, session: AsyncSession, job: Job[PayloadT], limit: int
    ) -> list[Job[PayloadT]]:
        """Up to `limit` jobs of its kind queued right behind the running job, never tried,
        now run by it: each ends done (`finish_in`) or queued again (`release_taken`)."""
        taken = await behind.take_behind(
            session, job, limit, self.worker_id, self.settings.job_lease_seconds
        )
        if taken:
            self.taken_by.setdefault(job.id, []).extend(one.id for one in taken)
        return taken

    async def release_taken(
        self,
        session: AsyncSession,
        untried: list[Job[Any]],
        failed: Job[Any] | None = None,
        *,
        error: str = "",
        retry_after: float = 0.0,
    ) -> None:
        """Queue taken jobs again, each to run on its own (`behind.release_taken`)."""
        await behind.release_taken(
            session,
            self.worker_id,
            [one.id for one in untried],
            failed.id if failed is not None else None,
            error=error,
            retry_after=retry_after,
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work of a job: committed on success, rolled back on error."""
        async with transaction(self.sessions, self.waker.after_commit) as session:
            yield session

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncSession]:
        """Where a statement atomic by itself runs (the worker's claims, a job's first read):
        on PostgreSQL it commits on its own, with no BEGIN and COMMIT round trips around it
        (`claim_sessions`: `db.single_statement_sessions`); else a unit of work."""
        if self.claim_sessions is None:
            async with self.transaction() as session:
                yield session
            return
        async with self.claim_sessions() as session:
            yield session
