"""A ticket's `JiraKey` request: checked at once, then handed to the worker in the same
transaction (`jira.link_ticket`); an empty key unlinks."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BadReference, BadRequest
from app.helpdesk.events import JiraKeyRequested, changing
from app.helpdesk.history import add_history
from app.helpdesk.models import JiraSyncStatus, Product, Ticket, TicketType
from app.integration.instances import default_instance
from app.integration.job_kinds import LinkTicket
from app.integration.models import Direction, JiraInstance, JiraIssue
from app.integration.outbound.rules import NEW_JIRA_ISSUE, LinkRequestKind, parse_jira_key
from app.integration.sync_logs import log_sync
from app.jobs import outbox as jobs


async def type_not_synchronised(
    session: AsyncSession, ticket: Ticket, instance: JiraInstance
) -> str | None:
    """Why tickets of this one's type are not synchronised with `instance` (Use All Ticket Types
    off and the type not allowed), or None when they are."""
    if instance.use_all_ticket_types or ticket.ticket_type_id in instance.allowed_ticket_type_ids:
        return None
    ticket_type = await session.get(TicketType, ticket.ticket_type_id)
    name = ticket_type.name if ticket_type else str(ticket.ticket_type_id)
    return (
        f"Tickets of type {name!r} are not synchronised with Jira instance {instance.name!r} "
        "(not in its AllowedTicketTypeIDs)."
    )


async def instance_for_ticket(
    session: AsyncSession, ticket: Ticket, instance_id: int | None = None
) -> JiraInstance:
    """The instance a ticket links through: the one asked for, else its product's, else Default."""
    if instance_id is not None:
        chosen = await session.get(JiraInstance, instance_id)
        if chosen is None:
            raise BadReference(f"JiraInstanceID {instance_id} does not exist.")
        return chosen
    product = await session.get(Product, ticket.product_id) if ticket.product_id else None
    if product is not None and product.jira_instance_id is not None:
        found = await session.get(JiraInstance, product.jira_instance_id)
        if found is not None:
            return found
    return await default_instance(session)


async def on_jira_key_requested(session: AsyncSession, event: JiraKeyRequested) -> None:
    ticket = await session.get(Ticket, event.ticket_id)
    assert ticket is not None, "published by the transaction that holds the ticket"
    async with changing(session, [event.ticket_id], event.origin):
        await apply_jira_key(
            session, ticket, event.jira_key, event.actor, instance_id=event.jira_instance_id
        )


async def apply_jira_key(
    session: AsyncSession,
    ticket: Ticket,
    jira_key: str | None,
    actor: str,
    *,
    instance_id: int | None = None,
) -> None:
    """Link (Pending + a link job), create a new issue, or unlink, as `JiraKey` asks."""
    try:
        request = parse_jira_key(jira_key)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    ticket_id = ticket.id or 0
    if request.kind is LinkRequestKind.UNLINK:
        await unlink(session, ticket, actor)
        return
    if request.kind is LinkRequestKind.NEW_ISSUE and ticket.jira_sync_status in (
        JiraSyncStatus.LINKED,
        JiraSyncStatus.PENDING,
    ):
        await _keep_the_current_link(session, ticket, actor)
        return
    instance = await instance_for_ticket(session, ticket, instance_id)
    if not instance.sync_active:
        raise BadRequest(
            f"Jira instance {instance.name!r} is not active (SyncActive is off); "
            "the ticket cannot be linked to Jira."
        )
    if not instance.host_name:
        raise BadRequest(f"Jira instance {instance.name!r} has no HostName yet.")
    if (reason := await type_not_synchronised(session, ticket, instance)) is not None:
        raise BadRequest(reason)
    if (
        request.kind is LinkRequestKind.EXISTING
        and ticket.jira_sync_status == JiraSyncStatus.LINKED
        and ticket.jira_instance_id == instance.id
        and ticket.jira_issue_ref is not None
    ):
        current = await session.get(JiraIssue, ticket.jira_issue_ref)
        if current is not None and current.issue_key.upper() == request.key:
            return  # already linked to that issue: nothing to do
    assert request.key is not None
    ticket.jira_sync_status = JiraSyncStatus.PENDING
    ticket.jira_requested_key = request.key
    ticket.jira_instance_id = instance.id
    ticket.jira_issue_ref = None
    session.add(ticket)
    target = "a new issue" if request.kind is LinkRequestKind.NEW_ISSUE else request.key
    await add_history(session, ticket_id, f"Jira link to {target} requested by {actor}")
    await session.flush()
    await jobs.enqueue(
        session, LinkTicket(ticket_id=ticket_id, key=request.key, instance_id=instance.id)
    )


async def _keep_the_current_link(session: AsyncSession, ticket: Ticket, actor: str) -> None:
    """NewJiraIssue on a ticket linked or being linked is a no-op, logged: a helpdesk re-sending
    a ticket's whole state must not create an issue each time (so no History line either)."""
    issue = await session.get(JiraIssue, ticket.jira_issue_ref) if ticket.jira_issue_ref else None
    key = issue.issue_key if issue else None
    if ticket.jira_sync_status == JiraSyncStatus.LINKED:
        where = f"already linked to {key or 'an issue'}"
    else:
        requested = ticket.jira_requested_key or NEW_JIRA_ISSUE
        target = "a new issue" if requested.upper() == NEW_JIRA_ISSUE.upper() else requested
        where = f"already being linked to {key or target}"
    await log_sync(
        session,
        instance_id=ticket.jira_instance_id,
        direction=Direction.TO_JIRA,
        event="link",
        message=(
            f"NewJiraIssue from {actor} ignored: the ticket is {where}. To link it to a fresh "
            "issue, unlink it first (an empty JiraKey)."
        ),
        ticket_id=ticket.id,
        jira_key=key,
    )
    await session.flush()


async def unlink(session: AsyncSession, ticket: Ticket, actor: str) -> None:
    if ticket.jira_sync_status == JiraSyncStatus.NONE and ticket.jira_issue_ref is None:
        return
    issue = await session.get(JiraIssue, ticket.jira_issue_ref) if ticket.jira_issue_ref else None
    old_key = issue.issue_key if issue else ticket.jira_requested_key
    instance_id = ticket.jira_instance_id
    ticket.jira_sync_status = JiraSyncStatus.NONE
    ticket.jira_issue_ref = None
    ticket.jira_requested_key = None
    ticket.jira_instance_id = None
    session.add(ticket)
    await add_history(
        session, ticket.id or 0, f"Jira link to {old_key or 'an issue'} removed by {actor}"
    )
    await log_sync(
        session,
        instance_id=instance_id,
        direction=Direction.TO_JIRA,
        event="unlink",
        message=f"Unlinked from {old_key or 'an issue'} by {actor}",
        ticket_id=ticket.id,
        jira_key=old_key,
    )
    await session.flush()
