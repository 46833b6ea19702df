"""Ready jobs at the head of other ordering keys, taken into a running job's transaction
(`jobs/alongside.py`): only the first of each key, ready, never tried, of the kind asked for;
locked until that transaction ends, and skipped while another holds them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from app.core.db import utcnow
from app.jobs import alongside
from app.jobs.models import SyncJob
from tests.jobs.test_behind import claim_first
from tests.jobs.test_worker import add_jobs, all_jobs, make_context

PUSH = "test.push"


async def heads(ctx: Any, limit: int = 10) -> list[int]:
    async with ctx.transaction() as session:
        return [int(row.payload["n"]) for row in await alongside.ready_heads(session, PUSH, limit)]


async def change(ctx: Any, n: int, **values: Any) -> None:
    """Set `values` on the job whose payload's `n` is `n`."""
    (row,) = [row for row in await all_jobs(ctx) if row.payload["n"] == n]
    async with ctx.transaction() as session:
        await session.execute(update(SyncJob).where(col(SyncJob.id) == row.id).values(**values))


async def test_the_first_ready_untried_job_of_each_other_key_of_the_kind(
    db: Any, settings: Any
) -> None:
    ctx = make_context(db, settings)
    await add_jobs(
        ctx,
        (PUSH, {"n": 0}, "running"),  # claimed below: its key is held
        (PUSH, {"n": 1}, "running"),
        (PUSH, {"n": 2}, "a"),  # the first of its key
        (PUSH, {"n": 3}, "a"),  # behind it
        ("test.other", {"n": 4}, "b"),
        (PUSH, {"n": 5}, "b"),  # behind a job of another kind
        (PUSH, {"n": 6}, "c"),  # tried before
        (PUSH, {"n": 7}, "d"),  # not ready yet
        (PUSH, {"n": 8}, None),  # no ordering key
        (PUSH, {"n": 9}, "e"),
    )
    await claim_first(ctx)
    await change(ctx, 6, attempts=1)
    await change(ctx, 7, run_after=utcnow() + timedelta(minutes=5))

    assert await heads(ctx) == [2, 9]
    assert await heads(ctx, limit=1) == [2]


@pytest.mark.postgres  # SQLite has one writer at a time: no other transaction holds rows
async def test_jobs_another_transaction_holds_are_skipped(db: Any, settings: Any) -> None:
    ctx = make_context(db, settings)
    await add_jobs(ctx, *[(PUSH, {"n": n}, f"key-{n}") for n in range(3)])
    async with ctx.transaction() as holding:
        held = await alongside.ready_heads(holding, PUSH, 1)
        assert [row.payload["n"] for row in held] == [0]
        assert await heads(ctx) == [1, 2]
    assert await heads(ctx) == [0, 1, 2]  # free again when that transaction ends
