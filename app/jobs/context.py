"""What a job handler gets: settings, transactions, and the long-lived services of the features
(`services`, e.g. the Jira client pool; the jobs package knows nothing of what they are)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import transaction
from app.core.settings import Settings
from app.jobs import outbox
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

    async def finish_in(self, session: AsyncSession, job_id: int) -> None:
        """Mark the running job done in the handler's last transaction: it is done exactly when
        its work commits, and the worker has nothing more to write for it."""
        await outbox.finish(session, [job_id], self.worker_id)
        self.finished_by_handler.add(job_id)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work of a job: committed on success, rolled back on error."""
        async with transaction(self.sessions, self.waker.after_commit) as session:
            yield session
