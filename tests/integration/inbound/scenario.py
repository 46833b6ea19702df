"""One Jira issue linked to a few tickets, and deliveries about it sent and worked off: the
setting of the tests of what a delivery does to linked tickets."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.inbound import Catalog, deliver, link, make_catalog, make_instance, make_tickets
from tests.support.inbound_fixtures import drain

ISSUE = "10040"


class Setup:
    def __init__(self, catalog: Catalog, instance_id: int, tickets: list[int]) -> None:
        self.catalog = catalog
        self.instance_id = instance_id
        self.tickets = tickets


async def setup(session: Any, count: int = 2, *, task_tickets: int = 0, **instance: Any) -> Setup:
    catalog = await make_catalog(session)
    jira = await make_instance(session, **instance)
    tickets = await make_tickets(session, catalog, count)
    if task_tickets:
        tickets += await make_tickets(session, catalog, task_tickets, type_id=catalog.task)
    await link(session, jira, ISSUE, "DEMO-1", tickets)
    await session.commit()
    return Setup(catalog, jira.id or 0, tickets)


async def send(http: httpx.AsyncClient, service: Any, s: Setup, payload: dict[str, Any]) -> None:
    response = await deliver(http, s.instance_id, payload)
    assert response.is_success, response.text
    await drain(service)
