"""What a ticket's elements refer to: its type, status, product and reported version, each by
ID or by name (both given: they must agree), or a `BadReference` saying what does not fit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadReference
from app.helpdesk.catalog import get_referenced
from app.helpdesk.models import Product, TicketStatus, TicketType, Version
from app.helpdesk.schemas import TicketInput


async def ticket_type(session: AsyncSession, data: TicketInput) -> TicketType | None:
    if data.ticket_type_id is not None:
        found: TicketType = await get_referenced(
            session, TicketType, data.ticket_type_id, "TicketTypeID"
        )
        _same_name(found.name, data.ticket_type_name, "TicketTypeName")
        return found
    if data.ticket_type_name:
        named: TicketType = await _by_name(
            session, TicketType, TicketType.name, data.ticket_type_name, "TicketTypeName"
        )
        return named
    return None


async def status(session: AsyncSession, data: TicketInput, ticket_type: TicketType) -> TicketStatus:
    if data.status_id is not None:
        status = await session.get(TicketStatus, data.status_id)
        if status is None:
            raise BadReference(f"StatusID {data.status_id} does not exist.")
        _same_name(status.name, data.status, "Status")
    elif data.status:
        status = await session.scalar(
            select(TicketStatus).where(
                col(TicketStatus.ticket_type_id) == ticket_type.id,
                func.lower(TicketStatus.name) == data.status.lower(),
            )
        )
        if status is None:
            raise BadReference(
                f"Status {data.status!r} does not exist for ticket type {ticket_type.name!r}."
            )
    else:
        status = await session.scalar(
            select(TicketStatus).where(
                col(TicketStatus.ticket_type_id) == ticket_type.id,
                col(TicketStatus.is_default).is_(True),
            )
        )
        if status is None:
            raise BadReference(f"Ticket type {ticket_type.name!r} has no statuses yet.")
    if status.ticket_type_id != ticket_type.id:
        raise BadReference(f"Status {status.name!r} belongs to another ticket type.")
    return status


async def product(session: AsyncSession, data: TicketInput) -> Product | None:
    if data.product_id is not None:
        product: Product | None = await session.get(Product, data.product_id)
        if product is None:
            raise BadReference(f"ProductID {data.product_id} does not exist.")
        _same_name(product.name, data.product_name, "ProductName")
        return product
    if data.product_name:
        named: Product = await _by_name(
            session, Product, Product.name, data.product_name, "ProductName"
        )
        return named
    return None


async def version(
    session: AsyncSession, data: TicketInput, product: Product | None
) -> Version | None:
    if data.reported_version_id is None and not data.reported_version:
        return None
    if product is None:
        raise BadReference("A ReportedVersion needs the ticket's Product.")
    if data.reported_version_id is not None:
        version = await session.get(Version, data.reported_version_id)
        if version is None:
            raise BadReference(f"ReportedVersionID {data.reported_version_id} does not exist.")
    else:
        version = await session.scalar(
            select(Version).where(
                col(Version.product_id) == product.id,
                func.lower(Version.version_number) == (data.reported_version or "").lower(),
            )
        )
        if version is None:
            raise BadReference(
                f"ReportedVersion {data.reported_version!r} does not exist for "
                f"product {product.name!r}."
            )
    if version.product_id != product.id:
        raise BadReference(f"Version {version.version_number!r} belongs to another product.")
    return version


async def _by_name(
    session: AsyncSession, model: type[Any], column: Any, name: str, element: str
) -> Any:
    found = await session.scalar(select(model).where(func.lower(column) == name.lower()))
    if found is None:
        raise BadReference(f"{element} {name!r} does not exist.")
    return found


def _same_name(actual: str, given: str | None, element: str) -> None:
    if given and given.lower() != actual.lower():
        raise BadReference(f"{element} {given!r} does not match the ID given ({actual!r}).")
