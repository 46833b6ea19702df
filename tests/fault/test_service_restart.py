"""The service restarted (SIGTERM) while actions and Jira's webhooks are being posted: everything
answered 2xx is applied or delivered exactly once; refused requests are retried by the client."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import pytest

from tests.e2e.conftest import Jira, ServiceFactory, http_client
from tests.support.faults import (
    assert_each_action_once,
    deadline,
    linked_tickets,
    post_action_reliably,
    wait_all_pushed,
)
from tests.support.helpdesk import actions_of
from tests.support.live import free_port
from tests.support.outbound import sim_issues
from tests.support.polling import eventually
from tests.support.world import ready_helpdesk

pytestmark = pytest.mark.fault

WEBHOOK_SECRET = "fault-suite-webhook-secret"


@deadline(50)
async def test_service_restarted_under_load(
    start_service: ServiceFactory, patient_webhooks: Jira
) -> None:
    jira = patient_webhooks
    port = free_port()
    same_address = {"PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(start_service(**same_address))
        api = await stack.enter_async_context(http_client(first))
        await ready_helpdesk(api, jira.base_url, WebhookSecret=WEBHOOK_SECRET)
        links = await linked_tickets(api, jira.sim, 10)
        jira.sim.register_webhook(f"{first.base_url}/webhooks/jira/1", secret=WEBHOOK_SECRET)
        accepted: list[dict[str, Any]] = []

        async def helpdesk_user(ticket_id: int) -> None:
            for n in range(8):
                text = f"Restart {n} on {ticket_id}"
                accepted.append(await post_action_reliably(api, ticket_id, text, timeout=30.0))

        async def jira_user() -> None:
            for n in range(30):
                link = links[n % len(links)]
                jira.sim.add_comment(link.issue_key, f"From Jira {n}", user="jdoe")
                await asyncio.sleep(0.03)

        load = asyncio.gather(jira_user(), *(helpdesk_user(link.ticket_id) for link in links))
        stack.callback(load.cancel)
        await eventually(
            lambda: asyncio.sleep(0, len(accepted)), lambda n: n >= 20, what="load under way"
        )
        first.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(first.process.wait, 15)
        # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM is normal.
        assert code in (0, -signal.SIGTERM), first.log()[-2000:]
        stopped_with = len(accepted)
        await stack.enter_async_context(start_service(**same_address))
        await load
        assert stopped_with < len(accepted), "no action was posted across the restart"

        await wait_all_pushed(api, jira.sim, [link.ticket_id for link in links], 80, 30.0)
        await assert_each_action_once(api, jira.sim, links, accepted)
        await jira.sim.webhooks_idle(timeout=20.0)
        assert all(d.delivered for d in jira.sim.deliveries)

        def expected() -> list[Counter[str]]:
            issues = {issue.key: issue for issue in sim_issues(jira.sim)}
            return [
                Counter(
                    str(c.id)
                    for c in issues[link.issue_key].comments
                    if "helpdesk-sync" not in c.properties
                )
                for link in links
            ]

        async def from_jira() -> list[Counter[str]]:
            views = []
            for link in links:
                rows = await actions_of(api, link.ticket_id)
                views.append(
                    Counter(str(r["JiraCommentID"]) for r in rows if r["Source"] == "Jira")
                )
            return views

        want = expected()
        assert sum(sum(c.values()) for c in want) == 30
        got = await eventually(
            from_jira,
            lambda views: views == want,
            timeout=15.0,
            interval=0.1,
            what="every Jira comment one action",
        )
        assert got == want
