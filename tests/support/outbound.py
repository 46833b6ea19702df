"""Helpers for ticket → Jira tests: running the worker, reading sync logs, counting in Jira."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.integration.models import SyncLog
from app.jobs.models import JobStatus, SyncJob
from app.jobs.worker import Worker
from app.wiring import job_registry


async def drain(app: Any) -> int:
    """Run every ready job (retries included, the test settings have no delays)."""
    return await Worker(app.state.worker_context, job_registry()).drain()


async def sync_logs(app: Any, *, errors_only: bool = False) -> list[SyncLog]:
    async with app.state.session_factory() as session:
        query = select(SyncLog).order_by(col(SyncLog.id))
        if errors_only:
            query = query.where(col(SyncLog.status) == "Error")
        return list((await session.scalars(query)).all())


async def jobs_of_kind(app: Any, kind: str) -> list[SyncJob]:
    async with app.state.session_factory() as session:
        query = select(SyncJob).where(col(SyncJob.kind) == kind).order_by(col(SyncJob.id))
        return list((await session.scalars(query)).all())


def failed(jobs: list[SyncJob]) -> list[SyncJob]:
    return [job for job in jobs if job.status == JobStatus.FAILED]


def sim_issues(sim: Any, project: str | None = None) -> list[Any]:
    issues = list(sim.state.issues.values())
    if project is None:
        return issues
    project_id = sim.state.project(project).id
    return [issue for issue in issues if issue.project_id == project_id]


def sim_requests(sim: Any, method: str, path_suffix: str) -> list[Any]:
    return [r for r in sim.requests if r.method == method and r.path.endswith(path_suffix)]
