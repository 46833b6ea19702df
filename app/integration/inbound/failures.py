"""What a failed Jira call means for a Jira → tickets job: authentication and other
instance-wide errors go to the sync errors (CrmSyncErrors), never to ticket History; the worker
retries the transient ones."""

from __future__ import annotations

from app.integration.access import job_error
from app.integration.models import Direction
from app.integration.services import JobContext
from app.integration.sync_logs import log_sync
from app.jira.errors import JiraAuthError, JiraError
from app.jobs.kinds import JobError


async def fail_instance_wide(
    ctx: JobContext, instance_id: int, event: str, exc: JiraError
) -> JobError:
    """Authentication and other instance-wide errors: CrmSyncErrors, not ticket History."""
    if isinstance(exc, JiraAuthError):
        async with ctx.transaction() as session:
            await log_sync(
                session,
                instance_id=instance_id,
                direction=Direction.FROM_JIRA,
                event=event,
                message=str(exc),
                error=True,
            )
    return job_error(exc)
