"""The Catalog screen: ticket types and their statuses, action types, products (with their Jira
Project Key and Jira Instance) and their versions, custom fields. Each has a table, an add form
and Delete, through the same services as the API; a refusal shows next to its field in the
API's words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import Response

from app.console.cookies import ConsoleSession
from app.console.deps import DbDep, FormDep, SignedInDep
from app.console.jira_forms import field_of
from app.console.pages import PREFIX, redirect, render
from app.core.errors import ApiError
from app.core.wire import MAX_ID, validate_elements
from app.helpdesk import catalog
from app.helpdesk.catalog import CatalogSpec
from app.helpdesk.models import FieldType
from app.integration import instances

router = APIRouter(prefix=f"{PREFIX}/catalog", include_in_schema=False)


@dataclass(frozen=True)
class Field:
    name: str  # the form field, and the model attribute shown in the table
    element: str  # the API element it becomes
    label: str
    kind: str = "text"  # text, check, lines, or a choice: ticket_type, product, instance, type


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    spec: CatalogSpec
    fields: tuple[Field, ...]


SECTIONS = (
    Section("ticket-types", "Ticket Types", catalog.TICKET_TYPES, (Field("name", "Name", "Name"),)),
    Section(
        "ticket-statuses",
        "Ticket Statuses",
        catalog.TICKET_STATUSES,
        (
            Field("name", "Name", "Name"),
            Field("ticket_type_id", "TicketTypeID", "Ticket Type", "ticket_type"),
            Field("is_default", "IsDefault", "Default", "check"),
            Field("is_closed", "IsClosed", "Closed", "check"),
        ),
    ),
    Section("action-types", "Action Types", catalog.ACTION_TYPES, (Field("name", "Name", "Name"),)),
    Section(
        "products",
        "Products",
        catalog.PRODUCTS,
        (
            Field("name", "Name", "Name"),
            Field("jira_project_key", "JiraProjectKey", "Jira Project Key"),
            Field("jira_instance_id", "JiraInstanceID", "Jira Instance", "instance"),
        ),
    ),
    Section(
        "versions",
        "Versions",
        catalog.VERSIONS,
        (
            Field("product_id", "ProductID", "Product", "product"),
            Field("version_number", "VersionNumber", "Version Number"),
            Field("jira_project_key", "JiraProjectKey", "Jira Project Key"),
        ),
    ),
    Section(
        "custom-fields",
        "Custom Fields",
        catalog.CUSTOM_FIELDS,
        (
            Field("name", "Name", "Name"),
            Field("field_type", "FieldType", "Field Type", "type"),
            Field("pick_list_values", "PickListValues", "Pick List Values (one a line)", "lines"),
        ),
    ),
)
BY_SLUG = {section.slug: section for section in SECTIONS}
NOTICES = {"added": "Added.", "deleted": "Deleted."}
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]


def elements(section: Section, form: FormData) -> dict[str, Any]:
    """The API elements an add form sends (a blank text or choice is no value)."""
    found: dict[str, Any] = {}
    for field in section.fields:
        raw = form.get(f"{section.slug}-{field.name}")
        text = raw.strip() if isinstance(raw, str) else ""
        if field.kind == "check":
            found[field.element] = raw is not None
        elif field.kind == "lines":
            values = [line.strip() for line in text.splitlines() if line.strip()]
            found[field.element] = values or None
        elif field.kind in ("ticket_type", "product", "instance"):
            found[field.element] = int(text) if text.isdigit() else None
        else:
            found[field.element] = text or None
    return found


async def _screen(
    request: Request,
    db: AsyncSession,
    session: ConsoleSession,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    items = {s.slug: await catalog.list_items(db, s.spec) for s in SECTIONS}
    choices = {
        "ticket_type": [(t.id, t.name) for t in items["ticket-types"]],
        "product": [(p.id, p.name) for p in items["products"]],
        "instance": [(i.id, i.name) for i in await instances.list_instances(db)],
        "type": [(t.value, t.value) for t in FieldType],
    }
    return render(
        request,
        "catalog.html",
        session,
        400 if errors else 200,
        sections=SECTIONS,
        items=items,
        choices=choices,
        names={kind: dict(options) for kind, options in choices.items()},
        errors=errors or {},
        values=values or {},
        notice=notice,
    )


@router.get("")
async def catalog_screen(
    request: Request, db: DbDep, session: SignedInDep, notice: str | None = None
) -> Response:
    return await _screen(request, db, session, notice=NOTICES.get(notice or ""))


@router.post("/{slug}")
async def add_item(
    request: Request, slug: str, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    section = BY_SLUG.get(slug)
    if section is None:
        return redirect(f"{PREFIX}/catalog")
    try:
        data = validate_elements(section.spec.input, elements(section, form))
        await catalog.create_item(db, section.spec, data)
    except ApiError as exc:
        await db.rollback()
        where = field_of(exc.message, [(f.name, f.element, f.label) for f in section.fields])
        values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
        key = f"{slug}-{where}" if where else f"{slug}-form"
        return await _screen(request, db, session, errors={key: exc.message}, values=values)
    return redirect(f"{PREFIX}/catalog?notice=added#{slug}")


@router.post("/{slug}/{item_id}/delete")
async def delete_item(
    request: Request, slug: str, item_id: ItemId, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    section = BY_SLUG.get(slug)
    if section is None:
        return redirect(f"{PREFIX}/catalog")
    try:
        item = await catalog.get_or_404(db, section.spec.model, item_id, section.spec.singular)
        await catalog.delete_item(db, section.spec, item)
    except ApiError as exc:
        await db.rollback()
        return await _screen(request, db, session, errors={f"{slug}-form": exc.message})
    return redirect(f"{PREFIX}/catalog?notice=deleted#{slug}")
