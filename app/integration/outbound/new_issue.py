"""The Jira issue a `NewJiraIssue` request creates: its project (the five-step project key
precedence applied to the ticket), issue type, summary, description and mapped fields, and the
create call itself, marked with the job that made it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.helpdesk.fields import from_stored
from app.helpdesk.models import CustomField, Product, Ticket, TicketCustomValue, TicketType, Version
from app.integration.models import JiraInstance, JiraMapping, MappingType
from app.integration.outbound.failures import look_again_later
from app.integration.outbound.field_mapping import MappedValue, create_fields
from app.integration.outbound.rules import (
    SYNC_PROPERTY,
    ProjectKeyInputs,
    issue_type_for,
    project_key_for,
)
from app.jira.client import JiraClient
from app.jira.errors import JiraAmbiguousResult, JiraNotFound, JiraValidationError
from app.jira.schemas import CreatedIssue

SUMMARY_MAX = 255


@dataclass
class NewIssue:
    project_key: str
    project_source: str
    issue_type: str
    summary: str
    description: str
    mapped: list[MappedValue] = field(default_factory=list)
    include_non_required: bool = False


class PlanProblem(Exception):
    """The link cannot be attempted as things stand (e.g. no project key for a new issue)."""


async def plan_new_issue(session: AsyncSession, ticket: Ticket, instance: JiraInstance) -> NewIssue:
    """What to create for the ticket, read in the job's first short transaction."""
    product = await session.get(Product, ticket.product_id) if ticket.product_id else None
    version = (
        await session.get(Version, ticket.reported_version_id)
        if ticket.reported_version_id
        else None
    )
    chosen = project_key_for(
        ProjectKeyInputs(
            always_use_default=instance.always_use_default_project_key,
            default_project_key=instance.default_project_key,
            version_project_key=version.jira_project_key if version else None,
            product_name=product.name if product else None,
            product_project_key=product.jira_project_key if product else None,
        )
    )
    if chosen is None:
        raise PlanProblem(
            "No Jira project key for a new issue: the ticket has no product and the Jira "
            f"instance {instance.name!r} has no DefaultProjectKey."
        )
    mappings = (
        await session.scalars(
            select(JiraMapping).where(col(JiraMapping.instance_id) == instance.id)
        )
    ).all()
    type_mappings = {
        m.teamsupport_field: m.jira_field
        for m in mappings
        if m.mapping_type == MappingType.TICKET_TYPE
    }
    ticket_type = await session.get(TicketType, ticket.ticket_type_id)
    assert ticket_type is not None
    values = await _ticket_values(session, ticket, product, version)
    mapped = [
        MappedValue(m.jira_field, m.teamsupport_field, values.get(m.teamsupport_field.lower()))
        for m in mappings
        if m.mapping_type == MappingType.TICKET
    ]
    summary = " ".join(ticket.name.split())[:SUMMARY_MAX]
    return NewIssue(
        project_key=chosen[0],
        project_source=chosen[1],
        issue_type=issue_type_for(ticket_type.name, type_mappings),
        summary=summary,
        description=ticket.description,
        mapped=mapped,
        include_non_required=instance.include_non_required_fields,
    )


async def _ticket_values(
    session: AsyncSession, ticket: Ticket, product: Product | None, version: Version | None
) -> dict[str, Any]:
    """The ticket's mappable values by lower-cased field name."""
    values: dict[str, Any] = {
        "ticketnumber": ticket.ticket_number,
        "name": ticket.name,
        "description": ticket.description,
        "productname": product.name if product else None,
        "reportedversion": version.version_number if version else None,
    }
    rows = await session.execute(
        select(CustomField, TicketCustomValue)
        .join(TicketCustomValue, col(TicketCustomValue.custom_field_id) == CustomField.id)
        .where(col(TicketCustomValue.ticket_id) == ticket.id)
    )
    for custom, stored in rows.all():
        values[custom.name.lower()] = from_stored(custom.field_type, stored.value)
    return values


async def create_issue(
    client: JiraClient, new: NewIssue, *, ticket_id: int, job_id: int, look_again_after: float
) -> tuple[CreatedIssue, list[str]]:
    """Create the issue with the `helpdesk-sync` property naming this job (so a later attempt can
    find it); returns it with notes about mapped fields not sent."""
    try:
        meta = await client.create_meta(new.project_key, new.issue_type)
    except JiraNotFound as exc:
        raise JiraValidationError(
            f"Jira project {new.project_key!r} (from {new.project_source}) or its issue type "
            f"{new.issue_type!r} does not exist or the integration user cannot create issues "
            f"there: {exc.message}",
            status=exc.status,
        ) from exc
    extra = create_fields(meta, new.mapped, include_non_required=new.include_non_required)
    fields: dict[str, Any] = {
        **extra.fields,
        "project": {"key": new.project_key},
        "issuetype": {"name": new.issue_type},
        "summary": new.summary,
    }
    if new.description:
        fields["description"] = new.description
    try:
        created = await client.create_issue(
            fields, properties={SYNC_PROPERTY: {"ticketId": ticket_id, "jobId": job_id}}
        )
    except JiraAmbiguousResult as exc:
        # `look_again_after` also lets Jira's search index catch up with a new issue.
        raise look_again_later(
            exc, "issue", made="created", making="creating", after=look_again_after
        ) from exc
    return created, extra.notes
