"""Jira's deliveries duplicated and out of order: every ticket ends in its issue's final state,
and each Jira comment is one action per linked ticket."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Jira, ServiceFactory, http_client
from tests.support.faults import Linked, deadline, linked_tickets
from tests.support.helpdesk import API, actions_of, get_ticket, ok
from tests.support.polling import eventually
from tests.support.world import ready_helpdesk

pytestmark = pytest.mark.fault

WEBHOOK_SECRET = "fault-suite-webhook-secret"
JIRA_STATUSES = ("To Do", "In Progress", "Done")


async def statuses_like_jira(api: httpx.AsyncClient, type_id: int) -> None:
    for name in JIRA_STATUSES:
        body = {"Name": name, "TicketTypeID": type_id}
        await ok(await api.post(f"{API}/TicketStatuses", json=body), 201)


async def ticket_view(api: httpx.AsyncClient, link: Linked) -> tuple[str, Counter[str]]:
    """A ticket's status and how many of its actions came from each Jira comment."""
    ticket = await get_ticket(api, link.ticket_id)
    from_jira = [a for a in await actions_of(api, link.ticket_id) if a["Source"] == "Jira"]
    return ticket["Status"], Counter(str(a["JiraCommentID"]) for a in from_jira)


def jira_view(jira: Jira, link: Linked) -> tuple[str, Counter[str]]:
    """What the ticket should show: the issue's status, and one action per user comment."""
    issue = jira.sim.issue(link.issue_key)
    status = jira.sim.state.statuses[issue.status_id].name
    ours = [c for c in issue.comments if "helpdesk-sync" in c.properties]
    assert not ours, "no helpdesk action was posted in this scenario"
    return status, Counter(str(c.id) for c in issue.comments)


@deadline(40)
async def test_duplicated_and_out_of_order_deliveries(
    start_service: ServiceFactory, jira: Jira
) -> None:
    async with start_service() as server, http_client(server) as api:
        helpdesk = await ready_helpdesk(
            api, jira.base_url, UpdateTicketStatus=True, WebhookSecret=WEBHOOK_SECRET
        )
        await statuses_like_jira(api, helpdesk.types["Task"])
        links = await linked_tickets(api, jira.sim, 4, tickets_per_issue=2)
        keys = sorted({link.issue_key for link in links})
        jira.sim.register_webhook(f"{server.base_url}/webhooks/jira/1", secret=WEBHOOK_SECRET)
        jira.sim.pause_webhooks()
        for step in range(4):
            for n, key in enumerate(keys):
                jira.sim.transition_issue(key, JIRA_STATUSES[(n + step + 1) % 3], user="jdoe")
                if (n + step) % 2 == 0:
                    jira.sim.add_comment(key, f"Jira says {step} on {key}", user="jdoe")
        originals = list(jira.sim.deliveries)
        assert len(originals) >= 4 * len(keys)
        # The originals are lost; what arrives is every delivery newest first (so each older
        # change comes after a newer one), then all of them again shuffled, some as Jira retries.
        jira.sim.drop_next_webhooks(len(originals))
        rng = random.Random(7)
        replay = list(reversed(originals)) + rng.sample(originals, len(originals))
        copies = [jira.sim.redeliver_webhook(d.id, as_retry=rng.random() < 0.3) for d in replay]
        jira.sim.resume_webhooks()
        await jira.sim.webhooks_idle(timeout=20.0)
        assert all(d.attempts[0].dropped for d in originals)
        assert all(c.delivered for c in copies), [c.as_dict() for c in copies if not c.delivered]

        async def all_tickets() -> list[tuple[str, Counter[str]]]:
            return [await ticket_view(api, link) for link in links]

        expected = [jira_view(jira, link) for link in links]
        final = await eventually(
            all_tickets,
            lambda views: views == expected,
            timeout=15.0,
            interval=0.1,
            what="tickets in the issues' final state",
        )
        assert final == expected
        statuses: dict[str, Any] = {key: jira.sim.get_issue(key) for key in keys}
        assert len({s["fields"]["status"]["name"] for s in statuses.values()}) > 1
