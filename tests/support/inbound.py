"""Jira → tickets test helpers: instances, catalogue, linked tickets (inserted directly, the
outbound API is another feature), and webhook bodies in Jira's real Cloud and Server shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.security import SecretBox
from app.helpdesk.models import (
    Action,
    CustomField,
    HistoryEntry,
    Product,
    Ticket,
    TicketStatus,
    TicketType,
)
from app.integration.models import JiraInstance, JiraIssue, JiraMapping, SyncLog
from tests.conftest import SECRET_KEY

WEBHOOK_SECRET = "jira-webhook-secret-0123"
JIRA_URL = "http://jira.test"
INTEGRATION_USER = "integration@example.com"
INTEGRATION_TOKEN = "demo-token"


@dataclass
class Catalog:
    bug: int
    task: int
    statuses: dict[tuple[int, str], int]  # (type id, name) -> status id
    demo_product: int
    support_product: int


async def make_catalog(session: AsyncSession) -> Catalog:
    bug, task = TicketType(name="Bug"), TicketType(name="Task")
    session.add_all([bug, task])
    await session.flush()
    statuses: dict[tuple[int, str], int] = {}
    for type_id, names in ((bug.id, ["Open", "In Progress", "Done"]), (task.id, ["New", "Done"])):
        for n, name in enumerate(names):
            status = TicketStatus(name=name, ticket_type_id=type_id or 0, is_default=n == 0)
            session.add(status)
            await session.flush()
            statuses[(type_id or 0, name)] = status.id or 0
    demo = Product(name="Demo Project", jira_project_key="DEMO")
    support = Product(name="Support")
    session.add_all([demo, support])
    await session.flush()
    return Catalog(bug.id or 0, task.id or 0, statuses, demo.id or 0, support.id or 0)


async def make_instance(
    session: AsyncSession,
    *,
    name: str = "Default",
    update_ticket_status: bool = True,
    sync_active: bool = True,
    webhook_secret: str | None = WEBHOOK_SECRET,
    user_name: str = INTEGRATION_USER,
) -> JiraInstance:
    """Configure the seeded `Default` instance (or add another) to talk to the simulator."""
    box = SecretBox(SECRET_KEY)
    instance = await session.scalar(select(JiraInstance).where(col(JiraInstance.name) == name))
    if instance is None:
        instance = JiraInstance(name=name)
    instance.host_name = JIRA_URL
    instance.user_name = user_name
    instance.api_token_encrypted = box.encrypt(INTEGRATION_TOKEN)
    instance.webhook_secret_encrypted = box.encrypt(webhook_secret) if webhook_secret else None
    instance.update_ticket_status = update_ticket_status
    instance.sync_active = sync_active
    session.add(instance)
    await session.flush()
    return instance


async def make_tickets(
    session: AsyncSession, catalog: Catalog, count: int, *, type_id: int | None = None
) -> list[int]:
    """Tickets inserted in one statement (fan-out tests need many)."""
    type_id = type_id or catalog.bug
    default = next(sid for (tid, _), sid in catalog.statuses.items() if tid == type_id)
    start = int(
        await session.scalar(
            select(Ticket.ticket_number).order_by(col(Ticket.ticket_number).desc())
        )
        or 0
    )  # type: ignore[call-overload]
    rows = [
        {
            "ticket_number": start + n + 1,
            "name": f"ticket {start + n + 1}",
            "description": "",
            "ticket_type_id": type_id,
            "status_id": default,
            "product_id": catalog.support_product,
            "jira_sync_status": "None",
        }
        for n in range(count)
    ]
    await session.execute(insert(Ticket), rows)
    ids = await session.scalars(
        select(col(Ticket.id)).where(col(Ticket.ticket_number) > start).order_by(col(Ticket.id))
    )
    return list(ids)


async def link(
    session: AsyncSession,
    instance: JiraInstance,
    issue_id: str,
    key: str,
    ticket_ids: Sequence[int],
    *,
    status_name: str | None = "To Do",
    issue_type_name: str | None = "Task",
) -> JiraIssue:
    """What the outbound feature stores when tickets are linked to an issue."""
    issue = JiraIssue(
        instance_id=instance.id or 0,
        issue_id=issue_id,
        issue_key=key,
        status_name=status_name,
        issue_type_name=issue_type_name,
    )
    session.add(issue)
    await session.flush()
    for ticket_id in ticket_ids:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.jira_issue_ref = issue.id
        ticket.jira_instance_id = instance.id
        ticket.jira_sync_status = "Linked"
        session.add(ticket)
    await session.flush()
    return issue


async def add_mapping(
    session: AsyncSession, instance: JiraInstance, kind: str, jira: str, ours: str
) -> None:
    session.add(
        JiraMapping(
            instance_id=instance.id or 0, mapping_type=kind, jira_field=jira, teamsupport_field=ours
        )
    )
    await session.flush()


async def add_custom_field(
    session: AsyncSession, name: str, field_type: str, pick_list: Sequence[str] = ()
) -> int:
    field = CustomField(name=name, field_type=field_type, pick_list_values=list(pick_list))
    session.add(field)
    await session.flush()
    return field.id or 0


async def ticket_rows(session: AsyncSession, ids: Sequence[int]) -> list[Ticket]:
    session.expire_all()
    rows = list(
        await session.scalars(
            select(Ticket).where(col(Ticket.id).in_(ids)).order_by(col(Ticket.id))
        )
    )
    await session.commit()  # reads end their transaction: SQLite's BEGIN IMMEDIATE locks
    return rows


async def actions_of(session: AsyncSession, ticket_id: int) -> list[Action]:
    rows = list(
        await session.scalars(
            select(Action).where(col(Action.ticket_id) == ticket_id).order_by(col(Action.id))
        )
    )
    await session.commit()
    return rows


async def history_of(session: AsyncSession, ticket_id: int) -> list[str]:
    rows = await session.scalars(
        select(col(HistoryEntry.description))
        .where(col(HistoryEntry.ticket_id) == ticket_id)
        .order_by(col(HistoryEntry.id))
    )
    lines = list(rows)
    await session.commit()
    return lines


async def sync_logs(session: AsyncSession) -> list[SyncLog]:
    rows = list(await session.scalars(select(SyncLog).order_by(col(SyncLog.id))))
    await session.commit()
    return rows


# -- webhook bodies in Jira's shapes ---------------------------------------------------------


def user(name: str = "jdoe", *, cloud: bool = True, display: str = "John Doe") -> dict[str, Any]:
    if cloud:
        return {
            "self": f"{JIRA_URL}/rest/api/2/user?accountId=5c5f{name}",
            "accountId": f"5c5f{name}",
            "displayName": display,
            "active": True,
            "timeZone": "Europe/Berlin",
        }
    return {
        "self": f"{JIRA_URL}/rest/api/2/user?username={name}",
        "name": name,
        "key": name,
        "emailAddress": f"{name}@example.com",
        "displayName": display,
        "active": True,
    }


def issue_body(
    issue_id: str,
    key: str,
    *,
    updated: str = "2026-11-23T10:00:00.000+0000",
    status: str = "To Do",
    issue_type: str = "Task",
    project: tuple[str, str] = ("DEMO", "Demo Project"),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": issue_id,
        "self": f"{JIRA_URL}/rest/api/2/issue/{issue_id}",
        "key": key,
        "fields": {
            "summary": "Printer on fire",
            "issuetype": {"id": "10001", "name": issue_type, "subtask": False},
            "project": {"id": "10000", "key": project[0], "name": project[1]},
            "status": {"id": "3", "name": status, "statusCategory": {"key": "indeterminate"}},
            "updated": updated,
            "created": "2026-11-01T09:00:00.000+0000",
            **(extra or {}),
        },
    }


def item(
    field: str, old: str | None, new: str | None, *, field_id: str | None = None, cloud: bool = True
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "field": field,
        "fieldtype": "custom" if (field_id or "").startswith("customfield_") else "jira",
        "from": None,
        "fromString": old,
        "to": None,
        "toString": new,
    }
    if cloud:
        entry["fieldId"] = field_id or field
    return entry


def issue_updated(
    issue_id: str,
    key: str,
    items: list[dict[str, Any]],
    *,
    changelog_id: int = 10100,
    cloud: bool = True,
    event_type: str | None = "issue_updated",
    **issue: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "timestamp": 1763892000000,
        "webhookEvent": "jira:issue_updated",
        "user": user(cloud=cloud),
        "issue": issue_body(issue_id, key, **issue),
        "changelog": {"id": str(changelog_id), "items": items},
    }
    if event_type is not None:
        body["issue_event_type_name"] = event_type
    return body


def comment(
    issue_id: str,
    comment_id: str,
    text: str = "Looking into it",
    *,
    author: dict[str, Any] | None = None,
    visibility: dict[str, str] | None = None,
    edited: bool = False,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "self": f"{JIRA_URL}/rest/api/2/issue/{issue_id}/comment/{comment_id}",
        "id": comment_id,
        "author": author or user(),
        "body": text,
        "updateAuthor": author or user(),
        "created": "2026-11-23T10:05:00.000+0000",
        "updated": "2026-11-23T10:09:00.000+0000" if edited else "2026-11-23T10:05:00.000+0000",
    }
    if visibility is not None:
        data["visibility"] = visibility
    return data


def cloud_comment_created(issue_id: str, key: str, comment_id: str, **kw: Any) -> dict[str, Any]:
    slim = issue_body(issue_id, key)
    slim["fields"].pop("updated")
    return {
        "timestamp": 1763892300000,
        "webhookEvent": "comment_created",
        "comment": comment(issue_id, comment_id, **kw),
        "issue": slim,
    }


def server_comment_created(issue_id: str, comment_id: str, **kw: Any) -> dict[str, Any]:
    """Jira Server's `comment_created`: no issue at all, its id only in `comment.self`."""
    kw.setdefault("author", user("jdoe", cloud=False))
    return {
        "timestamp": 1763892300000,
        "webhookEvent": "comment_created",
        "comment": comment(issue_id, comment_id, **kw),
    }


def server_issue_commented(
    issue_id: str,
    key: str,
    comment_id: str,
    *,
    event_type: str | None = "issue_commented",
    **kw: Any,
) -> dict[str, Any]:
    """Server's `jira:issue_updated` carrying a comment (no event type name on old Servers)."""
    kw.setdefault("author", user("jdoe", cloud=False))
    body: dict[str, Any] = {
        "timestamp": 1763892300000,
        "webhookEvent": "jira:issue_updated",
        "user": user("jdoe", cloud=False),
        "issue": issue_body(issue_id, key),
        "comment": comment(issue_id, comment_id, **kw),
    }
    if event_type is not None:
        body["issue_event_type_name"] = event_type
    return body


def simple_event(event: str, issue_id: str, key: str, **kw: Any) -> dict[str, Any]:
    return {
        "timestamp": 1763892000000,
        "webhookEvent": event,
        "user": user(),
        "issue": issue_body(issue_id, key, **kw),
    }


# -- sending ----------------------------------------------------------------------------------


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver(
    http: httpx.AsyncClient,
    instance_id: int,
    payload: dict[str, Any] | bytes,
    *,
    identifier: str | None = "auto",
    signature: str | None = "auto",
    query_secret: str | None = None,
    retry: int | None = None,
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers["X-Hub-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Hub-Signature"] = signature
    if identifier == "auto":
        identifier = hashlib.sha1(body).hexdigest()
    if identifier is not None:
        headers["X-Atlassian-Webhook-Identifier"] = identifier
    if retry is not None:
        headers["X-Atlassian-Webhook-Retry"] = str(retry)
    params = {"secret": query_secret} if query_secret else None
    return await http.post(
        f"/webhooks/jira/{instance_id}", content=body, headers=headers, params=params
    )
