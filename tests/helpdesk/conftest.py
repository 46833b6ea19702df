"""Helpdesk service tests: the service functions called with the app's kind of session (its
domain events reach the Jira integration), on the catalogue of `tests.support.world`."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.events import BUS_KEY, DomainEvent, EventBus
from app.helpdesk.events import ActionCreated, ActionTypeDeleteRequested, JiraKeyRequested
from tests.support.world import Catalog, make_catalog


@pytest.fixture
async def catalog(session: AsyncSession) -> Catalog:
    return await make_catalog(session)


@pytest.fixture
def published(session: AsyncSession) -> list[DomainEvent]:
    """Every helpdesk event the session publishes, in order, once the app's own subscribers
    (the Jira integration) have accepted it."""
    seen: list[DomainEvent] = []

    async def record(_session: AsyncSession, event: Any) -> None:
        seen.append(event)

    bus = session.info[BUS_KEY]
    assert isinstance(bus, EventBus)
    for event_type in (ActionCreated, JiraKeyRequested, ActionTypeDeleteRequested):
        bus.subscribe(event_type, record)
    return seen
