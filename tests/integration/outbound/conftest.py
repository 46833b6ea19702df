"""Ticket → Jira tests run on a helpdesk whose Default instance talks to the simulator."""

from __future__ import annotations

import httpx
import pytest

from tests.support.world import Helpdesk, ready_helpdesk


@pytest.fixture
async def helpdesk(sim_client: httpx.AsyncClient) -> Helpdesk:
    return await ready_helpdesk(sim_client)
