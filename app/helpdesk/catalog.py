"""The catalogues tickets refer to: ticket types and statuses, action types, products, versions,
custom fields. One generic create/update/delete with a small spec per resource for its rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.core.errors import BadReference, BadRequest, Conflict, NotFound
from app.core.events import publish
from app.core.wire import MAX_ID, ApiModel
from app.helpdesk import schemas
from app.helpdesk.events import ActionTypeDeleteRequested, StillUsed
from app.helpdesk.fields import FieldValueError, validate_pick_list
from app.helpdesk.models import (
    Action,
    ActionType,
    CustomField,
    FieldType,
    Product,
    Ticket,
    TicketCustomValue,
    TicketStatus,
    TicketType,
    Version,
)

Hook = Callable[[AsyncSession, Any, dict[str, Any], bool], Awaitable[None]]
InUse = Callable[[AsyncSession, Any], Awaitable[str | None]]


@dataclass(frozen=True)
class CatalogSpec:
    model: type[SQLModel]
    singular: str
    plural: str
    input: type[ApiModel]
    output: type[ApiModel]
    required: tuple[str, ...]
    # Attribute whose value must be unique, and the attribute that scopes it (e.g. per type).
    unique: str = "name"
    unique_scope: str | None = None
    check: Hook | None = None
    in_use: InUse | None = None
    children: tuple[tuple[type[SQLModel], str], ...] = field(default=())


async def get_or_404(session: AsyncSession, model: type[Any], ident: int, label: str) -> Any:
    found = await session.get(model, ident) if 0 < ident <= MAX_ID else None
    if found is None:
        raise NotFound(f"{label} {ident} does not exist.")
    return found


async def list_items(
    session: AsyncSession, spec: CatalogSpec, where: Sequence[Any] = ()
) -> Sequence[Any]:
    model: Any = spec.model
    return (await session.scalars(select(model).where(*where).order_by(model.id))).all()


async def create_item(
    session: AsyncSession, spec: CatalogSpec, data: ApiModel, fixed: dict[str, Any] | None = None
) -> Any:
    given = data.model_dump(exclude_unset=True)
    for name, value in (fixed or {}).items():  # given by the path: the body may only repeat it
        if name in given and given[name] != value:
            alias = spec.input.model_fields[name].alias
            if given[name] is None:
                raise BadRequest(f"{alias} cannot be empty.")
            raise BadReference(f"{alias} {given[name]} is not the one of the path ({value}).")
    values = {**given, **(fixed or {})}
    missing = [name for name in spec.required if values.get(name) is None]
    if missing:
        fields = ", ".join(spec.input.model_fields[name].alias or name for name in missing)
        raise BadRequest(f"{spec.singular} needs {fields}.")
    item = spec.model()
    return await _apply(session, spec, item, values, creating=True)


async def update_item(session: AsyncSession, spec: CatalogSpec, item: Any, data: ApiModel) -> Any:
    values = data.model_dump(exclude_unset=True)
    for name in spec.required:
        if name in values and values[name] is None:
            raise BadRequest(f"{spec.input.model_fields[name].alias} cannot be empty.")
    return await _apply(session, spec, item, values, creating=False)


async def delete_item(session: AsyncSession, spec: CatalogSpec, item: Any) -> None:
    if spec.in_use is not None:
        reason = await spec.in_use(session, item)
        if reason:
            raise Conflict(f"{spec.singular} {item.id} is still used: {reason}.")
    for child, column in spec.children:
        await session.execute(delete(child).where(getattr(child, column) == item.id))
    await session.delete(item)
    await session.flush()


async def _apply(
    session: AsyncSession, spec: CatalogSpec, item: Any, values: dict[str, Any], creating: bool
) -> Any:
    if spec.check is not None:
        await spec.check(session, item, values, creating)
    for name, value in values.items():
        setattr(item, name, value)
    await _ensure_unique(session, spec, item)
    session.add(item)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{spec.singular} conflicts with an existing one.") from exc
    return item


async def _ensure_unique(session: AsyncSession, spec: CatalogSpec, item: Any) -> None:
    model: Any = spec.model
    column = getattr(model, spec.unique)
    query = select(model.id).where(func.lower(column) == str(getattr(item, spec.unique)).lower())
    if spec.unique_scope:
        query = query.where(getattr(model, spec.unique_scope) == getattr(item, spec.unique_scope))
    if item.id is not None:
        query = query.where(model.id != item.id)
    if (await session.scalar(query.limit(1))) is not None:
        alias = spec.input.model_fields[spec.unique].alias
        raise Conflict(f"A {spec.singular} with {alias} {getattr(item, spec.unique)!r} exists.")


def _unknown_reference(element: str, ident: int) -> BadRequest:
    """An unknown ID in an element is the caller's mistake (400), not a 404."""
    return BadReference(f"{element} {ident} does not exist.")


async def get_referenced(session: AsyncSession, model: type[Any], ident: int, element: str) -> Any:
    """A row an element refers to by ID."""
    found = await session.get(model, ident) if 0 < ident <= MAX_ID else None
    if found is None:
        raise _unknown_reference(element, ident)
    return found


async def _foreign_row_exists(session: AsyncSession, column: Any, ident: int, element: str) -> None:
    """The row a foreign-key column would point at exists (read through the key itself, so the
    helpdesk need not know the other feature's table); else a 400 naming the element."""
    (key,) = column.property.columns[0].foreign_keys
    found = None
    if 0 < ident <= MAX_ID:
        found = await session.scalar(select(key.column).where(key.column == ident))
    if found is None:
        raise _unknown_reference(element, ident)


async def _count(session: AsyncSession, column: Any, value: Any) -> int:
    return int(await session.scalar(select(func.count()).where(column == value)) or 0)


def _used_by_tickets(column: Any) -> InUse:
    async def in_use(session: AsyncSession, item: Any) -> str | None:
        count = await _count(session, column, item.id)
        return f"{count} ticket(s) refer to it" if count else None

    return in_use


async def _check_status(
    session: AsyncSession, status: TicketStatus, values: dict[str, Any], creating: bool
) -> None:
    type_id = values.get("ticket_type_id", status.ticket_type_id)
    await get_referenced(session, TicketType, type_id, "TicketTypeID")
    if not creating and type_id != status.ticket_type_id:
        if await _count(session, Ticket.status_id, status.id):
            raise Conflict("A status used by tickets cannot move to another ticket type.")
    siblings = await _count(session, TicketStatus.ticket_type_id, type_id)
    makes_default = values.get("is_default") is True or (creating and siblings == 0)
    if makes_default:
        await session.execute(
            update(TicketStatus)
            .where(
                col(TicketStatus.ticket_type_id) == type_id, col(TicketStatus.is_default).is_(True)
            )
            .values(is_default=False)
        )
        values["is_default"] = True
    elif values.get("is_default") is False and status.is_default:
        raise Conflict("Each ticket type keeps one default status: make another one the default.")
    elif creating:
        values["is_default"] = False


async def _status_in_use(session: AsyncSession, status: TicketStatus) -> str | None:
    count = await _count(session, Ticket.status_id, status.id)
    if count:
        return f"{count} ticket(s) have this status"
    if (
        status.is_default
        and await _count(session, TicketStatus.ticket_type_id, status.ticket_type_id) > 1
    ):
        return "it is its type's default status; make another one the default first"
    return None


async def _action_type_in_use(session: AsyncSession, action_type: ActionType) -> str | None:
    if await _count(session, Action.action_type_id, action_type.id):
        return "actions have this type"
    try:
        await publish(session, ActionTypeDeleteRequested(action_type.id or 0))
    except StillUsed as used:
        return used.reason
    return None


async def _check_product(
    session: AsyncSession, _product: Product, values: dict[str, Any], _creating: bool
) -> None:
    if values.get("jira_instance_id") is not None:
        await _foreign_row_exists(
            session, Product.jira_instance_id, values["jira_instance_id"], "JiraInstanceID"
        )
    _normalise_key(values)


async def _check_version(
    session: AsyncSession, version: Version, values: dict[str, Any], creating: bool
) -> None:
    if not creating and values.get("product_id", version.product_id) != version.product_id:
        raise Conflict("A version cannot move to another product.")
    if not creating:
        values.pop("product_id", None)
    _normalise_key(values)


async def _check_custom_field(
    session: AsyncSession, custom: CustomField, values: dict[str, Any], creating: bool
) -> None:
    field_type = values.get("field_type", custom.field_type)
    if not creating and field_type != custom.field_type:
        if await _count(session, TicketCustomValue.custom_field_id, custom.id):
            raise Conflict("The type of a custom field that has values cannot change.")
    name = values.get("name")
    if name is not None and name.lower() in RESERVED_TICKET_ELEMENTS:
        raise BadRequest(f"{name!r} is a built-in ticket element; choose another Name.")
    pick_list = values.get("pick_list_values", None if not creating else [])
    if pick_list is not None or "field_type" in values:
        if pick_list is not None:
            source = pick_list
        elif field_type == FieldType.PICKLIST:
            source = custom.pick_list_values
        else:
            source = []  # a field that is no longer a PickList drops its list of values
        try:
            values["pick_list_values"] = validate_pick_list(str(field_type), source)
        except FieldValueError as exc:
            # Wrong only given what is stored (its type, or its values): a conflict with it.
            if pick_list is None:
                raise Conflict(f"{exc}; this field has none yet.") from exc
            if "field_type" not in values:
                raise Conflict(f"{exc}; this field is a {field_type} field.") from exc
            raise BadRequest(str(exc)) from exc
    if field_type is not None:
        values["field_type"] = str(field_type)


async def _custom_field_in_use(session: AsyncSession, custom: CustomField) -> str | None:
    count = await _count(session, TicketCustomValue.custom_field_id, custom.id)
    return f"{count} ticket(s) have a value for it" if count else None


def _normalise_key(values: dict[str, Any]) -> None:
    key = values.get("jira_project_key")
    if isinstance(key, str):
        values["jira_project_key"] = key.strip().upper() or None


RESERVED_TICKET_ELEMENTS = frozenset(
    (field.alias or name).lower()
    for model in (schemas.TicketInput, schemas.TicketOut)
    for name, field in model.model_fields.items()
)

TICKET_TYPES = CatalogSpec(
    TicketType,
    "TicketType",
    "TicketTypes",
    schemas.TicketTypeInput,
    schemas.TicketTypeOut,
    required=("name",),
    in_use=_used_by_tickets(Ticket.ticket_type_id),
    children=((TicketStatus, "ticket_type_id"),),
)
TICKET_STATUSES = CatalogSpec(
    TicketStatus,
    "TicketStatus",
    "TicketStatuses",
    schemas.TicketStatusInput,
    schemas.TicketStatusOut,
    required=("name", "ticket_type_id"),
    unique_scope="ticket_type_id",
    check=_check_status,
    in_use=_status_in_use,
)
ACTION_TYPES = CatalogSpec(
    ActionType,
    "ActionType",
    "ActionTypes",
    schemas.ActionTypeInput,
    schemas.ActionTypeOut,
    required=("name",),
    in_use=_action_type_in_use,
)
PRODUCTS = CatalogSpec(
    Product,
    "Product",
    "Products",
    schemas.ProductInput,
    schemas.ProductOut,
    required=("name",),
    check=_check_product,
    in_use=_used_by_tickets(Ticket.product_id),
    children=((Version, "product_id"),),
)
VERSIONS = CatalogSpec(
    Version,
    "Version",
    "Versions",
    schemas.VersionInput,
    schemas.VersionOut,
    required=("version_number", "product_id"),
    unique="version_number",
    unique_scope="product_id",
    check=_check_version,
    in_use=_used_by_tickets(Ticket.reported_version_id),
)
CUSTOM_FIELDS = CatalogSpec(
    CustomField,
    "CustomField",
    "CustomFields",
    schemas.CustomFieldInput,
    schemas.CustomFieldOut,
    required=("name", "field_type"),
    check=_check_custom_field,
    in_use=_custom_field_in_use,
)
