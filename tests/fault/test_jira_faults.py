"""Jira misbehaving: down for a stretch, then a storm of 429s. Nothing lost, nothing doubled."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.e2e.conftest import Jira, ServiceFactory, http_client
from tests.support.faults import (
    assert_each_action_once,
    deadline,
    linked_tickets,
    post_actions_reliably,
    wait_all_pushed,
)
from tests.support.polling import eventually
from tests.support.world import ready_helpdesk

pytestmark = pytest.mark.fault

COMMENT_PATH = r"/rest/api/2/issue/[^/]+/comment$"
# Retried for as long as the outage lasts; short backoff so the test takes seconds.
PATIENT_JOBS = {"JOB_MAX_ATTEMPTS": "1000", "JOB_RETRY_MAX_SECONDS": "0.3"}


@deadline(60)
async def test_jira_down_while_200_actions_are_posted(
    start_service: ServiceFactory, jira: Jira
) -> None:
    async with start_service(**PATIENT_JOBS) as server, http_client(server) as api:
        await ready_helpdesk(api, jira.base_url)
        links = await linked_tickets(api, jira.sim, 20)
        # Down: reads lose their connection, everything else is a 503, until every action is in.
        down = [
            jira.sim.add_fault("GET", ".*", drop=True, times=None),
            jira.sim.add_fault("*", ".*", status=503, times=None),
        ]
        # Then flaky: comments written but answered 503 (the outcome is unknown to the service).
        ambiguous = jira.sim.add_fault("POST", COMMENT_PATH, status=503, after_write=True, times=20)
        accepted = await post_actions_reliably(api, links, 10, "Down")
        assert len(accepted) == 200

        # Down until the service has tried to read, too (its retries look for their comments).
        async def a_read_was_dropped() -> bool:
            return any(r.dropped for r in jira.sim.requests)

        await eventually(a_read_was_dropped, bool, timeout=20.0, what="a read during the outage")
        for fault in down:
            jira.sim.remove_fault(fault.id)
        await wait_all_pushed(api, jira.sim, [link.ticket_id for link in links], 200, timeout=40.0)
        failed = [r for r in jira.sim.requests if r.fault_id is not None]
        assert any(r.dropped for r in failed)
        assert any(r.status == 503 for r in failed)
        assert ambiguous.hits == 20
        await assert_each_action_once(api, jira.sim, links, accepted)


@deadline(40)
async def test_429_storm_with_retry_after_is_honoured(
    start_service: ServiceFactory, jira: Jira
) -> None:
    async with start_service(**PATIENT_JOBS) as server, http_client(server) as api:
        await ready_helpdesk(api, jira.base_url)
        links = await linked_tickets(api, jira.sim, 10)
        jira.sim.clear_requests()
        storm = jira.sim.add_fault(
            "*", COMMENT_PATH, status=429, retry_after=1, times=None, duration=2.5
        )
        accepted = await post_actions_reliably(api, links, 5, "Storm")
        await wait_all_pushed(api, jira.sim, [link.ticket_id for link in links], 50, timeout=30.0)
        assert storm.hits >= len(links)
        await assert_each_action_once(api, jira.sim, links, accepted)
        # Retry-After honoured: after a 429 on an issue's comments, nothing is sent to that
        # path again before the second it asked for has passed (timestamps as Jira saw them).
        by_path = defaultdict(list)
        for request in jira.sim.requests:
            by_path[request.path].append(request)
        gaps = []
        for requests in by_path.values():
            for earlier, later in zip(requests, requests[1:], strict=False):
                if earlier.status == 429:
                    gaps.append((later.at - earlier.at).total_seconds())
        assert gaps, "no 429 was followed by another request"
        assert min(gaps) >= 0.99, f"a request came {min(gaps):.3f}s after a 429 (Retry-After: 1)"
