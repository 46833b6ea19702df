"""Running the worker inside a test, and the job rows it leaves."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from app.jobs.models import SyncJob
from app.jobs.worker import Worker
from app.wiring import job_registry


async def drain(app: Any, slots: int | None = None) -> int:
    """Run every ready job of the app (and the jobs they queue) to the end; how many ran.
    `slots`: the jobs the worker runs at once (else its lane's setting).

    Retries due at once run too: the simulator-backed test apps have no retry delays."""
    worker = Worker(app.state.worker_context, job_registry())
    if slots is not None:
        worker.slots = slots
    return await worker.drain()


def worker_writes_no_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on the worker writes no job's end (done) itself: the jobs done are those their
    handler finished in its own transaction (`finish_in`)."""

    async def nothing(_worker: Worker, _finished: list[Any]) -> None:
        pass

    monkeypatch.setattr(Worker, "_write_done", nothing)


async def jobs_of_kind(app: Any, kind: str) -> list[SyncJob]:
    async with app.state.session_factory() as session:
        query = select(SyncJob).where(col(SyncJob.kind) == kind).order_by(col(SyncJob.id))
        return list((await session.scalars(query)).all())
