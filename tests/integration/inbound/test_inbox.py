"""The two webhook inboxes decide alike: stored once, accepted only for a linked issue, an
outcome decided by the receiver kept; PostgreSQL's one-statement inbox answers a deleted
instance with 404."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.db import session_factory, utcnow
from app.core.errors import NotFound
from app.integration.inbound.inbox import NewDelivery, Outcome, SessionInbox, Stored, WebhookInbox
from app.integration.inbound.inbox_postgres import PostgresInboxPool
from app.jobs.models import SyncJob
from app.jobs.wakeup import Waker
from app.main import create_app
from tests.support.world import linked_world


def delivery(
    instance_id: int, delivery_id: str, issue_id: str | None, outcome: str | None = None
) -> NewDelivery:
    return NewDelivery(
        instance_id=instance_id,
        delivery_id=delivery_id,
        event="jira:issue_updated",
        body="{}",
        received_at=utcnow(),
        outcome=outcome,
        issue_id=issue_id,
    )


async def decisions(inbox: WebhookInbox, instance_id: int) -> list[tuple[bool, str | None]]:
    """(stored as new?, outcome) for: linked, unlinked, decided by the receiver, a repeat."""
    results: list[Stored] = [
        await inbox.store(delivery(instance_id, "d-linked", "10040")),
        await inbox.store(delivery(instance_id, "d-unlinked", "99999")),
        await inbox.store(delivery(instance_id, "d-ignored", None, Outcome.IGNORED)),
        await inbox.store(delivery(instance_id, "d-linked", "10040")),
    ]
    return [(result.row_id is not None, result.outcome) for result in results]


EXPECTED = [(True, None), (True, Outcome.UNLINKED), (True, Outcome.IGNORED), (False, None)]


async def apply_jobs(session: Any) -> int:
    count = await session.scalar(select(func.count()).select_from(SyncJob))
    await session.commit()
    return int(count or 0)


async def test_session_inbox(db: Any, session: Any) -> None:
    instance_id = (await linked_world(session)).instance_id
    async with session_factory(db)() as own, own.begin():
        assert await decisions(SessionInbox(own), instance_id) == EXPECTED
    assert await apply_jobs(session) == 1


@pytest.mark.postgres
class TestPostgresInbox:
    async def test_decides_like_the_session_inbox(self, settings: Any, session: Any) -> None:
        instance_id = (await linked_world(session)).instance_id
        pool = await PostgresInboxPool.open(settings.database_url, 2, Waker())
        try:
            async with pool.inbox() as inbox:
                assert await decisions(inbox, instance_id) == EXPECTED
        finally:
            await pool.close()
        assert await apply_jobs(session) == 1

    async def test_the_app_sizes_its_inbox_pool_by_its_own_setting(
        self, make_settings: Any, db: Any
    ) -> None:
        """Not by the engine's pool: the route's statements wait for the event loop's turn
        while the in-process worker applies, and need more connections than the engine."""
        settings = make_settings(inbox_pool_size=3, db_pool_size=5)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            assert app.state.webhook_inbox.pool.get_max_size() == 3

    async def test_a_deleted_instance_is_not_found(self, settings: Any, db: Any) -> None:
        pool = await PostgresInboxPool.open(settings.database_url, 2, Waker())
        try:
            async with pool.inbox() as inbox:
                with pytest.raises(NotFound):
                    await inbox.store(delivery(424242, "d-1", None, Outcome.IGNORED))
        finally:
            await pool.close()
