"""Queueing a job: the row the workers claim, written in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from sqlmodel import col

from app.core.db import utcnow
from app.jobs import outbox as jobs
from app.jobs.kinds import JobPayload
from app.jobs.models import JobStatus, SyncJob
from tests.support.statements import statements_sent


class Parcel(JobPayload):
    kind = "test.parcel"
    ticket_id: int
    note: str = ""

    def ordering_key(self) -> str | None:
        return f"ticket:{self.ticket_id}"


async def test_a_job_is_queued_as_its_payload_says_and_its_id_given_back(session: Any) -> None:
    before = utcnow()
    later = before + timedelta(minutes=5)
    first = await jobs.enqueue(session, Parcel(ticket_id=7, note="now"))
    second = await jobs.enqueue(session, Parcel(ticket_id=8), run_after=later)
    await session.commit()

    rows = {row.id: row for row in await session.scalars(select(SyncJob))}
    assert first != second
    assert sorted(rows) == sorted([first, second])
    now_row, later_row = rows[first], rows[second]
    assert now_row.kind == "test.parcel"
    assert now_row.payload == {"ticket_id": 7, "note": "now"}
    assert now_row.ordering_key == "ticket:7"
    assert (now_row.status, now_row.attempts) == (JobStatus.QUEUED, 0)
    assert (now_row.lease_until, now_row.locked_by, now_row.last_error) == (None, None, None)
    assert before <= now_row.run_after.replace(tzinfo=before.tzinfo) <= utcnow()
    assert now_row.created_at == now_row.updated_at == now_row.run_after
    assert later_row.run_after.replace(tzinfo=before.tzinfo) == later
    assert later_row.ordering_key == "ticket:8"


async def test_a_job_queued_in_a_transaction_rolled_back_is_not_there(session: Any) -> None:
    await jobs.enqueue(session, Parcel(ticket_id=1))
    await session.rollback()
    assert (await session.scalars(select(col(SyncJob.id)))).all() == []


class TestClaimLookingAhead:
    """`claim_looking_ahead` (one statement on PostgreSQL) claims and looks ahead as `claim`
    then `lookahead` do, the lookahead seeing the claim done: each case is run both ways on the
    same jobs (rolled back in between)."""

    # (ticket of each job, minutes until it is ready), how many to claim.
    CASES: ClassVar[list[tuple[list[tuple[int, int]], int]]] = [
        ([], 3),  # nothing queued
        ([(1, 0)], 3),  # one ready: due when its own new lease runs out
        ([(1, 0), (1, 0)], 3),  # the second waits behind the first
        ([(1, 0), (2, 30)], 3),  # due when the later one is ready
        ([(1, 0), (2, 0), (3, 0)], 2),  # the claim is full: no lookahead
        ([(1, 0), (2, 0)], 2),  # full, with nothing else
    ]

    @pytest.mark.parametrize(("queued", "limit"), CASES)
    async def test_as_a_claim_then_a_lookahead(
        self, session: Any, queued: list[tuple[int, int]], limit: int
    ) -> None:
        now = utcnow()
        for ticket_id, minutes in queued:
            await jobs.enqueue(
                session, Parcel(ticket_id=ticket_id), run_after=now + timedelta(minutes=minutes)
            )
        await session.commit()

        async def claimed_ahead(together: bool) -> tuple[list[int], Any]:
            try:
                if together:
                    batch, ahead = await jobs.claim_looking_ahead(session, "w", limit, 60)
                else:
                    batch = await jobs.claim(session, "w", limit, 60)
                    ahead = await jobs.lookahead(session) if len(batch) < limit else None
                return [job.id or 0 for job in batch], ahead
            finally:
                await session.rollback()

        ids, ahead = await claimed_ahead(together=True)
        expected_ids, expected = await claimed_ahead(together=False)
        assert ids == expected_ids
        if expected is None:
            assert ahead is None
            return
        assert ahead.waiting is expected.waiting
        if expected.due is None:
            assert ahead.due is None
        else:  # the leases each claim gave differ by the moments between the two
            assert abs((ahead.due - expected.due).total_seconds()) < 5

    async def test_one_statement_on_postgresql(self, session: Any) -> None:
        await jobs.enqueue(session, Parcel(ticket_id=1))
        await session.commit()
        with statements_sent(session.bind) as sent:
            (job,), ahead = await jobs.claim_looking_ahead(session, "w", 3, 60)
            await session.commit()
        assert (job.status, job.locked_by, job.attempts) == (JobStatus.RUNNING, "w", 1)
        assert job.payload == {"ticket_id": 1, "note": ""}
        assert ahead is not None
        assert ahead.due is not None
        work = [sql for sql in sent if not sql.startswith(("BEGIN", "COMMIT"))]
        assert len(work) == (1 if session.bind.dialect.name == "postgresql" else 2)
