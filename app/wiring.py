"""Every job kind the worker knows, in one list."""

from __future__ import annotations

from app.crm import jobs as crm_jobs
from app.integration.inbound import apply as inbound
from app.integration.inbound import reconcile as inbound_reconcile
from app.integration.outbound.comments import PUSH_COMMENT, on_push_failed, run_push_comment
from app.integration.outbound.link import on_link_failed, run_link_ticket
from app.integration.outbound.link_request import LINK_TICKET
from app.jobs.outbox import JobRegistry
from app.jobs.worker import prune

PRUNE_JOBS = "maintenance.prune_jobs"


def job_registry() -> JobRegistry:
    registry = JobRegistry()
    registry.register_periodic(PRUNE_JOBS, prune, lambda s: s.done_job_retention_seconds / 4)
    registry.register(LINK_TICKET, run_link_ticket, on_failure=on_link_failed)
    registry.register(PUSH_COMMENT, run_push_comment, on_failure=on_push_failed)
    inbound.register(registry)
    inbound_reconcile.register(registry)
    registry.register(crm_jobs.SET_PROPERTIES, crm_jobs.set_properties, crm_jobs.on_failure)
    return registry
