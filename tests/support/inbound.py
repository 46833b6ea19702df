"""Jira → tickets test helpers: reading what the worker left (tickets, actions, History, sync
logs) and webhook bodies in Jira's real Cloud and Server shapes, signed and delivered.
(The catalogue, the instance and linked tickets: `tests.support.world`.)"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.helpdesk.models import Action, HistoryEntry, Ticket
from app.integration.models import SyncLog
from tests.conftest import SIM_BASE_URL as JIRA_URL
from tests.support.jobs import drain
from tests.support.world import WEBHOOK_SECRET, LinkedWorld


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
    jsd_public: bool | None = None,
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
    if jsd_public is not None:
        data["jsdPublic"] = jsd_public
    return data


def cloud_comment_created(issue_id: str, key: str, comment_id: str, **kw: Any) -> dict[str, Any]:
    """Cloud's `comment_created`: every comment tells its audience (`jsdPublic`)."""
    if "visibility" not in kw:
        kw.setdefault("jsd_public", True)
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


async def send(
    http: httpx.AsyncClient, service: Any, world: LinkedWorld, payload: dict[str, Any]
) -> None:
    """Deliver `payload` for the world's instance, and let the worker finish what it queued."""
    response = await deliver(http, world.instance_id, payload)
    assert response.is_success, response.text
    await drain(service)
