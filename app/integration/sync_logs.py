"""Sync logs (the CrmSyncLogs report; errors also make CrmSyncErrors) and ticket-specific errors
in the ticket's History. Instance-wide errors (authentication) stay out of ticket History."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.helpdesk.history import SYNC_ERROR, add_history
from app.integration.models import Direction, LogStatus, SyncLog


async def log_sync(
    session: AsyncSession,
    *,
    instance_id: int | None,
    direction: Direction,
    event: str,
    message: str = "",
    ticket_id: int | None = None,
    jira_key: str | None = None,
    error: bool = False,
) -> None:
    session.add(
        SyncLog(
            jira_instance_id=instance_id,
            ticket_id=ticket_id,
            jira_key=jira_key,
            direction=direction,
            event=event,
            status=LogStatus.ERROR if error else LogStatus.OK,
            message=message,
        )
    )


async def log_ticket_error(
    session: AsyncSession,
    *,
    instance_id: int | None,
    ticket_id: int,
    direction: Direction,
    event: str,
    message: str,
    jira_key: str | None = None,
) -> None:
    """An error about one ticket: in the sync logs and errors, and in the ticket's History."""
    await log_sync(
        session,
        instance_id=instance_id,
        direction=direction,
        event=event,
        message=message,
        ticket_id=ticket_id,
        jira_key=jira_key,
        error=True,
    )
    await add_history(session, ticket_id, SYNC_ERROR.text(message=message))
