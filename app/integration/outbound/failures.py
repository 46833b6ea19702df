"""What a failed Jira call means for a ticket → Jira job: reported where the seed says, and
whether the worker should try again.

- validation (4xx) or a missing issue: the ticket's error (History + CrmSyncErrors), not retried;
- authentication/permission: an instance-wide error (CrmSyncErrors only), not retried;
- transient (5xx, timeouts, 429, ambiguous creates): retried by the worker with backoff.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.integration.access import job_error
from app.integration.models import Direction
from app.integration.sync_logs import log_sync, log_ticket_error
from app.jira.errors import JiraAmbiguousResult, JiraAuthError, JiraError, JiraNotFound
from app.jobs.kinds import JobError


def retry_error(exc: JiraError) -> JobError | None:
    """The JobError that makes the worker retry, or None when the failure is permanent."""
    return job_error(exc) if exc.transient else None


def look_again_later(
    exc: JiraAmbiguousResult, thing: str, *, made: str, making: str, after: float
) -> JobError:
    """A create whose outcome is unknown: Jira may still apply it, so looking for it at once
    could miss it and make a second one. The next attempt looks for it after `after` seconds."""
    return JobError(
        f"{exc.message} (the {thing} may have been {made}; looking for it in {after:g} s "
        f"before {making} it again)",
        transient=True,
        retry_after=after,
    )


def is_instance_wide(exc: JiraError) -> bool:
    return isinstance(exc, JiraAuthError)


def describe(exc: JiraError, *, subject: str | None = None) -> str:
    """Jira's own words, with a plain prefix for the cases where they are not enough."""
    if isinstance(exc, JiraAuthError):
        return f"Jira refused the instance's credentials or permissions: {exc.message}"
    if isinstance(exc, JiraNotFound) and subject:
        return f"{subject} does not exist in Jira or the integration user cannot see it"
    return exc.message


async def report_failure(
    session: AsyncSession,
    exc: JiraError,
    *,
    instance_id: int | None,
    ticket_id: int,
    event: str,
    jira_key: str | None = None,
    subject: str | None = None,
) -> str:
    """Write the error where it belongs; returns the message written."""
    message = describe(exc, subject=subject)
    if is_instance_wide(exc):
        await log_sync(
            session,
            instance_id=instance_id,
            direction=Direction.TO_JIRA,
            event=event,
            message=message,
            ticket_id=ticket_id,
            jira_key=jira_key,
            error=True,
        )
    else:
        await log_ticket_error(
            session,
            instance_id=instance_id,
            ticket_id=ticket_id,
            direction=Direction.TO_JIRA,
            event=event,
            message=message,
            jira_key=jira_key,
        )
    return message
