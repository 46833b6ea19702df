"""Ticket → Jira test helpers: the sync logs the service wrote, and what Jira (the simulator)
holds and was asked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.integration.models import SyncLog


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
