"""A Jira issue moved to another project: the link's key and the tickets' product follow."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from app.integration.models import JiraIssue
from tests.support.inbound import history_of, issue_updated, item, send, sync_logs, ticket_rows
from tests.support.world import ISSUE_ID, linked_world


class TestMove:
    def moved(self, project: tuple[str, str]) -> dict[str, Any]:
        return issue_updated(
            ISSUE_ID,
            f"{project[0]}-7",
            [item("project", "Support", project[1]), item("Key", "DEMO-1", f"{project[0]}-7")],
            project=project,
        )

    async def test_link_key_and_product_follow(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        await send(http, service, s, self.moved(("DEMO", "Demo Project")))
        issue = await session.scalar(select(JiraIssue).where(col(JiraIssue.issue_id) == ISSUE_ID))
        await session.commit()
        assert issue.issue_key == "DEMO-7"
        for ticket in await ticket_rows(session, s.tickets):
            assert ticket.product_id == s.catalog.demo_product
            history = await history_of(session, ticket.id)
            assert "Jira issue moved from DEMO-1 to DEMO-7" in history
            assert "Product changed from Support to Demo Project by Jira" in history
        answer = await http.get(
            f"/api/json/Tickets/{s.tickets[0]}", auth=("t", "test-api-token-0123456789")
        )
        assert answer.json()["Ticket"]["JiraKey"] == "DEMO-7"

    async def test_unknown_project_keeps_the_product_and_logs(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 1)
        await send(http, service, s, self.moved(("OPS", "Operations")))
        (ticket,) = await ticket_rows(session, s.tickets)
        assert ticket.product_id == s.catalog.support_product
        assert any("OPS" in log.message for log in await sync_logs(session))
