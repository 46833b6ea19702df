"""Queueing a job: the row the workers claim, written in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.core.db import utcnow
from app.jobs import outbox as jobs
from app.jobs.kinds import JobPayload
from app.jobs.models import JobStatus, SyncJob


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
