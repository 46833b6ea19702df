"""What the CRM command API adds to the app: its job kinds."""

from __future__ import annotations

from app.crm import jobs
from app.jobs.kinds import JobRegistry


def register_jobs(registry: JobRegistry) -> None:
    jobs.register(registry)
