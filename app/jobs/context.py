"""What a job handler gets: settings, transactions, the Jira clients and the secret box."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.security import SecretBox
from app.core.settings import Settings
from app.integration.services import Services
from app.jobs.wakeup import Waker


@dataclass
class WorkerContext:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    secrets: SecretBox
    waker: Waker
    worker_id: str
    services: Services

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work of a job: committed on success, rolled back on error."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        self.waker.after_commit(session)
