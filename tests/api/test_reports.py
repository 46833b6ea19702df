"""CrmSyncLogs / CrmSyncErrors reports and /metrics."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import API_TOKEN
from tests.support.helpdesk import API, create_ticket, ok
from tests.support.jobs import drain
from tests.support.world import ready_helpdesk


class TestReports:
    async def test_logs_and_errors_with_filters(
        self, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        await ready_helpdesk(sim_client)
        issue = jira_sim.create_issue("DEMO", "Existing")
        good = await create_ticket(sim_client, JiraKey=issue.key)
        bad = await create_ticket(sim_client, JiraKey="DEMO-999")
        await drain(sim_app)
        logs = (await ok(await sim_client.get(f"{API}/Reports/CrmSyncLogs")))["CrmSyncLogs"]
        assert {row["TicketID"] for row in logs} >= {good["ID"], bad["ID"]}
        errors = (await ok(await sim_client.get(f"{API}/Reports/CrmSyncErrors")))["CrmSyncErrors"]
        assert [(e["TicketID"], e["Status"], e["Direction"]) for e in errors] == [
            (bad["ID"], "Error", "ToJira")
        ]
        assert errors[0]["JiraKey"] == "DEMO-999"
        mine = await ok(
            await sim_client.get(
                f"{API}/Reports/CrmSyncLogs",
                params={"TicketID": good["ID"], "JiraInstanceID": 1, "PageSize": 1},
            )
        )
        assert len(mine["CrmSyncLogs"]) == 1
        assert mine["CrmSyncLogs"][0]["TicketID"] == good["ID"]
        later = await ok(
            await sim_client.get(
                f"{API}/Reports/CrmSyncLogs", params={"Since": "2999-01-01T00:00:00Z"}
            )
        )
        assert later["CrmSyncLogs"] == []

    async def test_xml(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/xml/Reports/CrmSyncErrors")
        assert response.status_code == 200
        assert b"<CrmSyncErrors" in response.content


async def test_metrics_expose_jobs_and_jira_calls(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/metrics", auth=None, headers={"Authorization": "Bearer " + API_TOKEN}
    )
    assert response.status_code == 200
    assert "sync_jobs_enqueued_total" in response.text
    assert "jira_requests_total" in response.text


async def test_metrics_need_the_api_token(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/metrics", auth=None)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert anonymous.json()["Error"]["Code"] == "Unauthorized"
    wrong = await client.get("/metrics", auth=None, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
