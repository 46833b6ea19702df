"""A Jira issue deleted in Jira: its links go to Error."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.inbound.scenario import ISSUE, send, setup
from tests.support.inbound import (
    deliver,
    history_of,
    issue_updated,
    item,
    simple_event,
    sync_logs,
    ticket_rows,
)


class TestDelete:
    async def test_links_go_to_error_with_history(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await setup(session, 2)
        await send(http, service, s, simple_event("jira:issue_deleted", ISSUE, "DEMO-1"))
        for ticket in await ticket_rows(session, s.tickets):
            assert ticket.jira_sync_status == "Error"
            assert any("was deleted" in line for line in await history_of(session, ticket.id))
        errors = [log for log in await sync_logs(session) if log.status == "Error"]
        assert {log.ticket_id for log in errors} == set(s.tickets)
        # later deliveries about it are stored, not worked on
        again = issue_updated(ISSUE, "DEMO-1", [item("status", "To Do", "Done")], changelog_id=9)
        assert (await deliver(http, s.instance_id, again)).json()["status"] == "unlinked"
