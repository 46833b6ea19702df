"""`jira.refresh_issue`: fetch one issue and apply its current state to the linked tickets, through
the same code as webhooks (after a link, and for reconciliation). Jira is called between
transactions, never inside one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.logging import get_logger
from app.integration.access import jira_client
from app.integration.events import IssueLinked
from app.integration.inbound.apply import apply_issue_changes, remember_version
from app.integration.inbound.deleted import mark_deleted
from app.integration.inbound.failures import fail_instance_wide
from app.integration.inbound.linked_tickets import ApplyReport, LinkedTickets
from app.integration.inbound.receive import replay_unlinked
from app.integration.inbound.rules import changes_from_issue, is_stale
from app.integration.job_kinds import RefreshIssue
from app.integration.linked_issues import issue_row
from app.integration.models import JiraInstance, JiraMapping, MappingType
from app.integration.services import JobContext
from app.jira.client import JiraClient
from app.jira.errors import JiraError, JiraNotFound
from app.jira.schemas import Issue
from app.jira.webhooks import parse_jira_time
from app.jobs import outbox as jobs
from app.jobs.kinds import Job, JobRegistry

log = get_logger(__name__)


async def enqueue_refresh(
    session: AsyncSession, instance_id: int, issue_id: str, linked_since: datetime | None = None
) -> int:
    """Queue `jira.refresh_issue` (e.g. right after a ticket is linked), in the caller's
    transaction, ordered with the issue's webhook deliveries. With `linked_since` (when the link
    was asked for), deliveries about the issue that arrived before the link existed are replayed."""
    return await jobs.enqueue(
        session,
        RefreshIssue(instance_id=instance_id, issue_id=issue_id, linked_since=linked_since),
    )


async def mapped_field_names(session: AsyncSession, instance_id: int) -> list[str]:
    rows = await session.scalars(
        select(col(JiraMapping.jira_field)).where(
            col(JiraMapping.instance_id) == instance_id,
            col(JiraMapping.mapping_type) == MappingType.TICKET,
        )
    )
    return list(rows)


async def field_names_by_id(client: JiraClient, mapped: Sequence[str]) -> dict[str, str]:
    if not mapped:
        return {}
    return {field.id: field.name for field in await client.fields()}


async def apply_fetched_issue(
    ctx: JobContext,
    instance_id: int,
    fetched: Issue,
    field_names: dict[str, str],
) -> ApplyReport | None:
    """Apply a fetched issue's current state through the same code path as webhooks; None when
    it is not linked (any more) or older than what the tickets reflect."""
    async with ctx.transaction() as session:
        instance = await session.get(JiraInstance, instance_id)
        issue = await issue_row(session, instance_id, fetched.id, lock=True)
        if instance is None or issue is None or issue.deleted:
            return None
        tickets = LinkedTickets(session, instance, issue)
        if not await tickets.id_list():
            return None
        updated = parse_jira_time(fetched.fields.get("updated"))
        if is_stale(updated, None, issue.jira_updated, issue.last_changelog_id):
            return None
        initial = issue.status_name is None
        changes = changes_from_issue(
            fetched.key,
            fetched.fields,
            known_key=issue.issue_key,
            known_status=issue.status_name,
            known_type=issue.issue_type_name,
            field_names=field_names,
            mapped=await mapped_field_names(session, instance_id),
        )
        report = await apply_issue_changes(tickets, changes, set_product=initial)
        if fetched.key and fetched.key != issue.issue_key:
            issue.issue_key = fetched.key
        remember_version(issue, updated, None)
        session.add(issue)
        return report


async def refresh_issue(ctx: JobContext, job: Job[RefreshIssue]) -> None:
    """Fetch one issue and apply its current status, type, project and mapped fields."""
    instance_id = job.payload.instance_id
    issue_id = job.payload.issue_id
    async with ctx.transaction() as session:
        instance = await session.get(JiraInstance, instance_id)
        issue = await issue_row(session, instance_id, issue_id)
        mapped = await mapped_field_names(session, instance_id)
    if instance is None or issue is None or issue.deleted:
        log.info("jira.refresh.unlinked", instance_id=instance_id, issue_id=issue_id)
        return
    try:
        async with jira_client(ctx.services, instance) as client:
            fetched = await client.get_issue(issue_id)
            names = await field_names_by_id(client, mapped)
    except JiraNotFound:
        async with ctx.transaction() as session:
            instance = await session.get(JiraInstance, instance_id)
            row = await issue_row(session, instance_id, issue_id, lock=True)
            if instance is not None and row is not None and not row.deleted:
                await mark_deleted(session, instance, row)
        return
    except JiraError as exc:
        raise await fail_instance_wide(ctx, instance_id, "jira.refresh_issue", exc) from exc
    await apply_fetched_issue(ctx, instance_id, fetched, names)
    if (since := job.payload.linked_since) is not None:
        async with ctx.transaction() as session:
            replayed = await replay_unlinked(session, instance_id, issue_id, since)
        if replayed:
            log.info("jira.refresh.replayed", issue_id=issue_id, deliveries=replayed)


def register(registry: JobRegistry) -> None:
    registry.register(RefreshIssue, refresh_issue)


async def on_issue_linked(session: AsyncSession, event: IssueLinked) -> None:
    """A new link: an existing issue's current state is fetched and applied; a brand-new issue
    has nothing to apply, but a comment made in Jira the moment it was created may have arrived
    before the link existed, and is replayed."""
    if event.created:
        await replay_unlinked(session, event.instance_id, event.issue_id, event.requested_at)
    else:
        await enqueue_refresh(
            session, event.instance_id, event.issue_id, linked_since=event.requested_at
        )
