"""Ticket → Jira tests run on a helpdesk whose Default instance talks to the simulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.world import Helpdesk, LinkedTicket, linked_ticket, ready_helpdesk


@pytest.fixture
async def helpdesk(sim_client: httpx.AsyncClient) -> Helpdesk:
    return await ready_helpdesk(sim_client)


@pytest.fixture
async def linked(
    sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any, helpdesk: Helpdesk
) -> LinkedTicket:
    """A ticket linked to an issue in the simulator."""
    return await linked_ticket(sim_app, sim_client, jira_sim)
