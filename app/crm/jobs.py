"""The `crm.set_properties` job: writes an issue's CRM Property field in Jira."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest, NotFound
from app.core.logging import get_logger
from app.integration.access import jira_client, job_error
from app.integration.models import DEFAULT_INSTANCE_NAME, Direction, JiraInstance
from app.integration.services import JobContext
from app.integration.sync_logs import log_sync
from app.jira.client import JiraClient
from app.jira.errors import JiraError
from app.jira.schemas import find_field
from app.jobs import outbox as jobs
from app.jobs.kinds import Failure, Job, JobError, JobPayload, JobRegistry

log = get_logger(__name__)


class SetProperties(JobPayload):
    """Write an issue's CRM Property field (the instance's `CrmPropertyField`)."""

    kind = "crm.set_properties"
    instance_id: int
    issue_key: str
    value: str

    def ordering_key(self) -> str:
        return f"crm:{self.instance_id}:{self.issue_key}"


async def instance_for(session: AsyncSession, instance_id: int | None) -> JiraInstance:
    """The Jira instance by id, or the `Default` one."""
    if instance_id is not None:
        instance = await session.get(JiraInstance, instance_id)
    else:
        instance = await session.scalar(
            select(JiraInstance).where(col(JiraInstance.name) == DEFAULT_INSTANCE_NAME)
        )
    if instance is None:
        raise NotFound(f"No Jira instance {instance_id or DEFAULT_INSTANCE_NAME!r}.")
    if not instance.host_name:
        raise BadRequest(f"The Jira instance {instance.name!r} has no host configured.")
    return instance


async def enqueue_set_properties(
    session: AsyncSession, instance_id: int | None, issue_key: str, value: str
) -> int:
    """The queued job's id."""
    instance = await instance_for(session, instance_id)
    if not instance.crm_property_field:
        raise BadRequest(
            f"The Jira instance {instance.name!r} has no CRM property field configured."
        )
    key = issue_key.strip().upper()
    return await jobs.enqueue(
        session, SetProperties(instance_id=instance.id or 0, issue_key=key, value=value)
    )


async def field_id(client: JiraClient, configured: str) -> str:
    """The configured field as a Jira field id (`customfield_10050`), by name if need be."""
    if configured.startswith("customfield_"):
        return configured
    found = find_field(await client.fields(), configured)
    if found is None:
        raise JobError(f"Jira has no field {configured!r}", transient=False)
    return found.id


async def set_properties(ctx: JobContext, job: Job[SetProperties]) -> None:
    """Idempotent: writes the same value again when repeated."""
    payload = job.payload
    async with ctx.transaction() as session:
        instance = await session.get(JiraInstance, payload.instance_id)
    if instance is None or not instance.crm_property_field:
        raise JobError("the Jira instance or its CRM property field is gone", transient=False)
    issue_key = payload.issue_key
    try:
        async with jira_client(ctx.services, instance) as client:
            target = await field_id(client, instance.crm_property_field)
            await client.edit_issue(issue_key, {target: payload.value})
    except JiraError as exc:
        raise job_error(exc) from exc
    await _log_outcome(ctx, payload, f"CRM property set: {payload.value}")
    log.info("crm.properties.set", issue=issue_key, instance=instance.id)


async def on_failure(ctx: JobContext, job: Job[SetProperties], failure: Failure) -> None:
    await _log_outcome(ctx, job.payload, failure.message, error=True)


async def _log_outcome(
    ctx: JobContext, payload: SetProperties, message: str, *, error: bool = False
) -> None:
    async with ctx.transaction() as session:
        await log_sync(
            session,
            instance_id=payload.instance_id,
            direction=Direction.TO_JIRA,
            event="crm.properties_set",
            message=message,
            jira_key=payload.issue_key,
            error=error,
        )


def register(registry: JobRegistry) -> None:
    registry.register(SetProperties, set_properties, on_failure)
