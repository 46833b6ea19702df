"""A Jira issue's changes applied to every ticket linked to it: type, status, move/product and
mapped fields, in that order (a new type decides which statuses exist)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.integration.inbound.fields import apply_fields
from app.integration.inbound.linked_tickets import ApplyReport, LinkedTickets
from app.integration.inbound.product import apply_move, apply_product
from app.integration.inbound.status import apply_issue_type, apply_status
from app.integration.models import JiraInstance, JiraIssue
from app.jira.webhooks import IssueChanges, as_utc


async def apply_issue_changes(
    session: AsyncSession,
    instance: JiraInstance,
    issue: JiraIssue,
    changes: IssueChanges,
    *,
    set_product: bool = False,
) -> ApplyReport:
    """Type, status, move/product and mapped fields, in that order, to every linked ticket."""
    tickets = LinkedTickets(session, instance, issue)
    report = ApplyReport()
    if changes.issue_type:
        await apply_issue_type(tickets, changes.issue_type, report)
    if changes.status_to:
        await apply_status(tickets, changes.status_from, changes.status_to, report)
    if changes.move is not None:
        await apply_move(tickets, changes, report)
    elif set_product and changes.project_key:
        await apply_product(
            tickets, changes.project_key, changes.project_name, report, log_unmatched=False
        )
    if changes.fields:
        await apply_fields(tickets, changes.fields, report)
    if report.changes:
        await tickets.touch()
        await tickets.log("jira.issue_updated", "; ".join(report.changes))
    return report


def remember_version(issue: JiraIssue, updated: datetime | None, changelog_id: int | None) -> None:
    """What the tickets now reflect (Jira's `updated`, then the changelog id within the same
    time), so that an older delivery is recognised as stale."""
    if updated is not None and (
        issue.jira_updated is None or as_utc(updated) >= as_utc(issue.jira_updated)
    ):
        if issue.jira_updated is None or as_utc(updated) > as_utc(issue.jira_updated):
            issue.last_changelog_id = None
        issue.jira_updated = updated
    if changelog_id is not None and (
        issue.last_changelog_id is None or changelog_id > issue.last_changelog_id
    ):
        issue.last_changelog_id = changelog_id
