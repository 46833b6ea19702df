"""The command that writes to Jira: setcrmproperties, through the worker (`sync`, which reads Jira
during the request, is `app.crm.jira_sync`)."""

from __future__ import annotations

from typing import Any

from app.core.errors import BadRequest
from app.crm.commands.context import (
    COMPANY,
    CONTACT,
    CommandContext,
    named_record,
    ok,
)
from app.crm.jobs import enqueue_set_properties


async def set_crm_properties(ctx: CommandContext) -> dict[str, Any]:
    """Queue writing the issue's CRM Property field (the worker calls Jira)."""
    issue_key = ctx.params.require("issueKey", "issue", "issueId")
    parts: list[str] = []
    if ctx.params.get(*COMPANY.keys) is not None:
        company = await named_record(ctx, COMPANY)
        parts.append(f"Company: {company.name} (id {company.number})")
    if ctx.params.get(*CONTACT.keys) is not None:
        contact = await named_record(ctx, CONTACT)
        parts.append(f"Contact: {contact.name} (id {contact.number})")
    if not parts:
        raise BadRequest(
            "Parameter 'companyId', 'companyName', 'contactId' or 'contactName' is required.",
            code="MissingParameter",
        )
    value = "; ".join(parts)
    job_id = await enqueue_set_properties(
        ctx.session, ctx.params.record_id("instanceId"), issue_key, value
    )
    return ok(issueKey=issue_key, value=value, jobId=str(job_id), status="Pending")
