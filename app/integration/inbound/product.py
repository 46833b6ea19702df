"""A Jira issue moved to another project, or a project first seen: the new key on the link,
and the product whose Jira project (or name) matches on every linked ticket."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.helpdesk import history
from app.helpdesk.models import Product, Ticket
from app.integration.inbound.linked_tickets import ACTOR, ApplyReport, LinkedTickets, text_value
from app.integration.inbound.rules import ProductOption, target_product
from app.jira.deliveries import IssueChanges

_OLD_PRODUCT = aliased(Product)  # built once: an alias is costly to make per statement


async def apply_move(tickets: LinkedTickets, changes: IssueChanges, report: ApplyReport) -> None:
    move = changes.move
    assert move is not None
    issue = tickets.issue
    old_key = move.old_key or issue.issue_key
    if old_key != move.new_key:
        issue.issue_key = move.new_key
        await tickets.history(text_value(f"Jira issue moved from {old_key} to {move.new_key}"))
        report.changes.append(f"moved {old_key} -> {move.new_key}")
    await apply_product(tickets, move.project_key, move.project_name, report, log_unmatched=True)


async def apply_product(
    tickets: LinkedTickets,
    project_key: str,
    project_name: str | None,
    report: ApplyReport,
    *,
    log_unmatched: bool,
) -> None:
    session = tickets.session
    rows = await session.scalars(
        select(Product).where(
            or_(
                func.lower(Product.jira_project_key) == project_key.lower(),
                func.lower(Product.name) == (project_name or project_key).lower(),
            )
        )
    )
    options = [
        ProductOption(p.id or 0, p.name, p.jira_project_key, p.jira_instance_id) for p in rows
    ]
    target = target_product(options, tickets.instance.id or 0, project_key, project_name)
    if target is None:
        if log_unmatched:
            message = (
                f"Jira project {project_key} ({project_name or 'unnamed'}) matches no product; "
                "product unchanged"
            )
            report.notes.append(message)
            await tickets.log("jira.project", message, error=True)
        return
    new_name = next(o.name for o in options if o.id == target)
    other = or_(col(Ticket.product_id).is_(None), col(Ticket.product_id) != target)
    await tickets.history(
        history.PRODUCT_CHANGED.sql(
            old=func.coalesce(_OLD_PRODUCT.name, history.NONE), new=new_name, actor=ACTOR
        ),
        other,
        joins=((_OLD_PRODUCT, _OLD_PRODUCT.id == Ticket.product_id, True),),
    )
    result = await session.execute(
        sa_update(Ticket)
        .where(tickets.linked, other)
        .values(product_id=target, reported_version_id=None)
    )
    if getattr(result, "rowcount", 0):
        report.changes.append(f"product -> {new_name}")
