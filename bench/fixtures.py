"""Data for the benchmarks: the instance and catalogues through the API (as a user would), linked
tickets and CRM records in bulk through the database/service layer (not thousands of calls)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_engine, session_factory, utcnow
from app.core.security import hmac_sha256_hex
from app.crm import records as crm_records
from app.crm import tables as crm_tables
from app.helpdesk.models import JiraSyncStatus, Ticket
from app.integration.models import JiraIssue
from bench.stack import JIRA_TOKEN, JIRA_USER, WEBHOOK_SECRET, Stack

API = "/api/json"
CRM_KEY, CRM_USER = "bench-crm-api-key-0123456789", "bench.user"
STATUSES = ("To Do", "In Progress", "Done")


@dataclass
class Helpdesk:
    instance_id: int
    type_id: int
    statuses: dict[str, int] = field(default_factory=dict)


def json_api_headers(stack: Stack) -> dict[str, str]:
    """A JSON body for the ticket API, with the API token (for the load generator's requests)."""
    return {"Content-Type": "application/json", "Authorization": f"Bearer {stack.api_token}"}


def api_client(stack: Stack) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{stack.app_url}{API}", auth=("bench", stack.api_token), timeout=30.0
    )


async def ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(
            f"{response.request.url} answered {response.status_code}: {response.text}"
        )
    return response.json() if response.content else None


async def configure(stack: Stack) -> Helpdesk:
    """The Default instance on the simulator (status updates on, a webhook secret), ticket type
    Task with Jira's status names, action type Comment."""
    async with api_client(stack) as api:
        instance = await ok(
            await api.put(
                "/JiraInstances/1",
                json={
                    "HostName": stack.sim_url,
                    "UserName": JIRA_USER,
                    "ApiToken": JIRA_TOKEN,
                    "DefaultProjectKey": "DEMO",
                    "SyncActive": True,
                    "UpdateTicketStatus": True,
                    "WebhookSecret": WEBHOOK_SECRET,
                },
            )
        )
        task = await ok(await api.post("/TicketTypes", json={"Name": "Task"}))
        helpdesk = Helpdesk(instance["JiraInstance"]["ID"], task["TicketType"]["ID"])
        for name in STATUSES:
            status = await ok(
                await api.post(
                    "/TicketStatuses",
                    json={
                        "Name": name,
                        "TicketTypeID": helpdesk.type_id,
                        "IsDefault": name == "To Do",
                    },
                )
            )
            helpdesk.statuses[name] = status["TicketStatus"]["ID"]
        await ok(await api.post("/ActionTypes", json={"Name": "Comment"}))
        await ok(await api.put("/Crm/Settings", json={"ApiKey": CRM_KEY}))
        rights = ["CRM Main Menu", "Search CRM objects"]
        await ok(await api.put(f"/Crm/Users/{CRM_USER}", json={"Rights": rights}))
    return helpdesk


async def sim_issues(stack: Stack, count: int) -> list[tuple[str, str]]:
    """Issues that exist in the simulator (outbound comments are posted to them): (id, key)."""
    created = []
    async with httpx.AsyncClient(base_url=stack.sim_url, timeout=30.0) as sim:
        for n in range(count):
            issue = await ok(
                await sim.post("/_sim/issues", json={"project": "DEMO", "summary": f"Bench {n}"})
            )
            created.append((str(issue["id"]), str(issue["key"])))
    return created


class Database:
    """The benchmark's own connection to the service's database (setup and reading timestamps)."""

    def __init__(self, stack: Stack) -> None:
        self.engine: AsyncEngine = create_engine(stack.database_url, pool_size=2, max_overflow=2)
        self.sessions = session_factory(self.engine)
        self._next_ticket = 1_000_000

    async def close(self) -> None:
        await self.engine.dispose()

    async def fetch(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(text(sql), params)).all())

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(text(sql), params)

    async def link_tickets(
        self, helpdesk: Helpdesk, issues: list[tuple[str, str]], per_issue: int
    ) -> dict[str, list[int]]:
        """`per_issue` tickets in status To Do linked to each issue; issue id -> ticket ids."""
        linked: dict[str, list[int]] = {}
        async with self.sessions() as session:
            for issue_id, key in issues:
                ref = await session.scalar(
                    insert(JiraIssue)
                    .values(
                        instance_id=helpdesk.instance_id,
                        issue_id=issue_id,
                        issue_key=key,
                        status_name="To Do",
                        issue_type_name="Task",
                    )
                    .returning(JiraIssue.id)  # type: ignore[arg-type]
                )
                rows = []
                for _ in range(per_issue):
                    self._next_ticket += 1
                    rows.append(
                        {
                            "ticket_number": self._next_ticket,
                            "name": f"Bench ticket {self._next_ticket}",
                            "description": "",
                            "ticket_type_id": helpdesk.type_id,
                            "status_id": helpdesk.statuses["To Do"],
                            "date_created": utcnow(),
                            "date_modified": utcnow(),
                            "jira_instance_id": helpdesk.instance_id,
                            "jira_issue_ref": ref,
                            "jira_sync_status": JiraSyncStatus.LINKED,
                        }
                    )
                ids = await session.scalars(
                    insert(Ticket).returning(Ticket.id),  # type: ignore[arg-type]
                    rows,
                )
                linked[issue_id] = [int(i) for i in ids]
            await session.commit()
        return linked

    async def load_crm(self, companies: int, contacts: int, batch: int = 10_000) -> None:
        """Companies and contacts through `app.crm.records.bulk_create`, in big batches."""
        async with self.sessions() as session:
            clients = await crm_tables.load_table(session, "CLIENTS")
            await crm_records.bulk_create(
                session, clients, [{"org_name": f"Company {n}"} for n in range(1, companies + 1)]
            )
            await session.commit()
        for first in range(1, contacts + 1, batch):
            async with self.sessions() as session:
                people = await crm_tables.load_table(session, "CONTACTS")
                rows = [
                    {
                        "contact_name": f"Person {n}",
                        "contact_email": f"p{n}@example.com",
                        "contact_company": str(n % companies + 1),
                    }
                    for n in range(first, min(first + batch, contacts + 1))
                ]
                await crm_records.bulk_create(session, people, rows)
                await session.commit()
        await self.execute("ANALYZE crm_records")


def issue_updated(
    issue_id: str,
    key: str,
    status_from: str,
    status_to: str,
    changelog_id: int,
    updated: datetime,
) -> bytes:
    """A Cloud `jira:issue_updated` delivery: a status change, as Jira sends it."""
    stamp = updated.strftime("%Y-%m-%dT%H:%M:%S.") + f"{updated.microsecond // 1000:03d}+0000"
    payload = {
        "timestamp": int(updated.timestamp() * 1000),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": "5c5f880629be9642ba529340", "displayName": "John Doe"},
        "issue": {
            "id": issue_id,
            "key": key,
            "fields": {
                "summary": f"Issue {key}",
                "updated": stamp,
                "status": {"name": status_to, "id": "3"},
                "issuetype": {"name": "Task", "id": "10002"},
                "project": {"id": "10000", "key": key.split("-")[0], "name": "Demo Project"},
            },
        },
        "changelog": {
            "id": str(changelog_id),
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "fromString": status_from,
                    "toString": status_to,
                }
            ],
        },
    }
    return json.dumps(payload).encode()


def signed_headers(body: bytes, delivery_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": "sha256=" + hmac_sha256_hex(WEBHOOK_SECRET, body),
        "X-Atlassian-Webhook-Identifier": delivery_id,
    }
