"""The fault suite runs on the end-to-end harness: the service (and worker) as real processes on
the test run's database, the Jira simulator as a real HTTP server in the test's event loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Jira, jira, jira_server, start_service  # noqa: F401  (fixtures)


@pytest.fixture
def patient_webhooks(jira: Jira) -> Iterator[Jira]:  # noqa: F811
    """Jira retries a failed delivery for a while; the default test simulator gives up in ~0.1 s,
    shorter than a service restart. Restored after the test (the simulator is shared)."""
    dispatcher = jira.sim.webhooks
    saved = dispatcher.max_retries, dispatcher.retry_delay
    dispatcher.max_retries, dispatcher.retry_delay = 12, 0.05
    try:
        yield jira
    finally:
        dispatcher.max_retries, dispatcher.retry_delay = saved
