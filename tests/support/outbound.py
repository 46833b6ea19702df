"""Ticket → Jira test helpers: the sync logs the service wrote, and what Jira (the simulator)
holds and was asked."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from app.integration.models import SyncLog
from app.integration.outbound.rules import SYNC_PROPERTY
from tests.conftest import SIM_TOKEN, SIM_USER


async def sync_logs(app: Any, *, errors_only: bool = False) -> list[SyncLog]:
    async with app.state.session_factory() as session:
        query = select(SyncLog).order_by(col(SyncLog.id))
        if errors_only:
            query = query.where(col(SyncLog.status) == "Error")
        return list((await session.scalars(query)).all())


def sim_issues(sim: Any, project: str | None = None) -> list[Any]:
    issues = list(sim.state.issues.values())
    if project is None:
        return issues
    project_id = sim.state.project(project).id
    return [issue for issue in issues if issue.project_id == project_id]


def comment_lines(issue: Any) -> list[str]:
    """The first line of each of an issue's comments (a pushed comment adds its author below)."""
    return [comment.body.split("\n")[0] for comment in issue.comments]


def sim_requests(sim: Any, method: str, path_suffix: str) -> list[Any]:
    return [r for r in sim.requests if r.method == method and r.path.endswith(path_suffix)]


async def jira_applies(sim: Any, path: str, body: dict[str, Any]) -> None:
    """The integration user's earlier request, applied by Jira (the simulator) only now."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app),
        base_url=sim.base_url,
        auth=(SIM_USER, SIM_TOKEN),
    ) as jira:
        (await jira.post(path, json=body)).raise_for_status()


def sync_property(value: dict[str, Any]) -> list[dict[str, Any]]:
    """The `helpdesk-sync` entity property the service writes on its comments and issues."""
    return [{"key": SYNC_PROPERTY, "value": value}]
