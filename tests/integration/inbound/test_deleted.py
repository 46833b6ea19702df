"""A Jira issue deleted in Jira: its links go to Error."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.inbound import (
    deliver,
    history_of,
    issue_updated,
    item,
    send,
    simple_event,
    sync_logs,
    ticket_rows,
)
from tests.support.world import ISSUE_ID, linked_world


class TestDelete:
    async def test_links_go_to_error_with_history(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        await send(http, service, s, simple_event("jira:issue_deleted", ISSUE_ID, "DEMO-1"))
        for ticket in await ticket_rows(session, s.tickets):
            assert ticket.jira_sync_status == "Error"
            assert any("was deleted" in line for line in await history_of(session, ticket.id))
        errors = [log for log in await sync_logs(session) if log.status == "Error"]
        assert {log.ticket_id for log in errors} == set(s.tickets)
        # later deliveries about it are stored, not worked on
        again = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "Done")], changelog_id=9)
        assert (await deliver(http, s.instance_id, again)).json()["status"] == "unlinked"
