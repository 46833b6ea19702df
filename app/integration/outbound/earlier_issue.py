"""An issue an earlier attempt of a `jira.link_ticket` job created, though its answer was lost:
found by the `helpdesk-sync` property naming the ticket and the job, so it is not created twice."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from app.integration.outbound.new_issue import NewIssue
from app.integration.outbound.rules import SYNC_PROPERTY, jql_string
from app.jira.client import JiraClient
from app.jira.schemas import CreatedIssue

_PHRASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ]*")


def summary_phrase(summary: str) -> str:
    """The longest plain run of the summary (letters, digits, spaces): a JQL text search for it
    cannot trip over reserved characters."""
    runs = sorted((m.group(0).strip() for m in _PHRASE.finditer(summary)), key=len, reverse=True)
    return runs[0][:80].strip() if runs else ""


async def issues_created_by(
    client: JiraClient, project_key: str, summary: str, ticket_id: int, job_id: int
) -> AsyncIterator[CreatedIssue]:
    """The issues attempts of this link job created (their `helpdesk-sync` property says so),
    newest first."""
    clauses = [f"project = {jql_string(project_key)}", "created >= -2d"]
    if phrase := summary_phrase(summary):
        clauses.append(f"summary ~ {jql_string(phrase)}")
    jql = " AND ".join(clauses) + " ORDER BY created DESC"
    page = await client.search_jql(jql, max_results=50, fields=["summary"])
    for issue in page.issues:
        prop = await client.get_issue_property(issue.id, SYNC_PROPERTY)
        value = prop.value if prop is not None else None
        if (
            isinstance(value, dict)
            and value.get("ticketId") == ticket_id
            and value.get("jobId") == job_id
        ):
            yield CreatedIssue(id=issue.id, key=issue.key)


async def find_earlier_issue(
    client: JiraClient, new: NewIssue, ticket_id: int, job_id: int
) -> CreatedIssue | None:
    """An issue an earlier attempt of this job created."""
    async for issue in issues_created_by(client, new.project_key, new.summary, ticket_id, job_id):
        return issue
    return None
