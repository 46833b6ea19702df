"""Mapped Jira fields reaching the linked tickets, converted to each field's type."""

from __future__ import annotations

from typing import Any

import httpx

from app.integration.models import JiraInstance, MappingType
from tests.support.inbound import history_of, issue_updated, item, send, sync_logs
from tests.support.world import ISSUE_ID, add_custom_field, add_mapping, linked_world


class TestMappedFields:
    async def test_values_are_converted_and_a_bad_one_is_an_error_for_that_field_only(
        self, http: httpx.AsyncClient, service: Any, session: Any
    ) -> None:
        s = await linked_world(session, 2)
        async with session.begin():
            instance = await session.get(JiraInstance, s.instance_id)
            await add_custom_field(session, "Severity", "PickList", ["Low", "High"])
            await add_custom_field(session, "Story Points", "Number")
            await add_custom_field(session, "Due", "Date")
            await add_mapping(session, instance, MappingType.TICKET, "Severity", "Severity")
            await add_mapping(session, instance, MappingType.TICKET, "Points", "Story Points")
            await add_mapping(session, instance, MappingType.TICKET, "Due date", "Due")
            await add_mapping(session, instance, MappingType.TICKET, "summary", "Name")
        payload = issue_updated(
            ISSUE_ID,
            "DEMO-1",
            [
                item("Severity", None, "High", field_id="customfield_10010"),
                item("Points", "3", "5", field_id="customfield_10020"),
                item("Due date", None, "next tuesday", field_id="duedate"),
                item("summary", "Old", "Printer on fire"),
            ],
            extra={
                "customfield_10010": {"value": "High", "id": "10001"},
                "customfield_10020": 5.0,
                "duedate": "next tuesday",
            },
        )
        await send(http, service, s, payload)
        answer = await http.get(
            f"/api/json/Tickets/{s.tickets[1]}", auth=("t", "test-api-token-0123456789")
        )
        ticket = answer.json()["Ticket"]
        assert ticket["Severity"] == "High"
        assert ticket["Story Points"] == 5
        assert ticket["Due"] is None
        assert ticket["Name"] == "Printer on fire"
        errors = [log for log in await sync_logs(session) if log.status == "Error"]
        assert {log.ticket_id for log in errors} == set(s.tickets)
        assert all("Due" in log.message for log in errors)
        history = await history_of(session, s.tickets[0])
        assert "Severity changed from (empty) to High by Jira" in history
        assert any(line.startswith("Jira sync error:") for line in history)
