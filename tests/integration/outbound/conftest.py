"""The helpdesk seeded and the Default instance pointed at the in-process simulator."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SIM_BASE_URL, SIM_TOKEN, SIM_USER
from tests.support.helpdesk import Helpdesk, configure_default_instance, seed_helpdesk


@pytest.fixture
async def helpdesk(sim_client: httpx.AsyncClient) -> Helpdesk:
    setup = await seed_helpdesk(sim_client)
    await configure_default_instance(sim_client, SIM_BASE_URL, SIM_USER, SIM_TOKEN)
    return setup
