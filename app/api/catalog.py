"""Routers for the catalogue resources: TicketTypes, TicketStatuses, ActionTypes, Products,
Versions and CustomFields (the same handlers answer JSON and XML)."""

from __future__ import annotations

from enum import Enum
from functools import cache
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, create_model

from app.api.bodies import documented_body, read_model
from app.api.deps import FormatDep, IdPath, SessionDep
from app.api.responses import formatted
from app.api.xml_texts import NOT_EMPTY
from app.helpdesk import catalog
from app.helpdesk.catalog import CatalogSpec
from app.helpdesk.models import Product, Version

router = APIRouter()


@cache
def answer_model(spec: CatalogSpec, many: bool = False) -> type[BaseModel]:
    """The documented answer: `{"TicketType": {...}}` or `{"TicketTypes": [...]}`."""
    name, content = (spec.plural, list[spec.output]) if many else (spec.singular, spec.output)  # type: ignore[name-defined]
    model: type[BaseModel] = create_model(f"{name}Answer", **{name: (content, ...)})  # type: ignore[call-overload]
    return model


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad input"},
    404: {"description": "Not found"},
    409: {"description": "Conflict"},
}


def _one(spec: CatalogSpec, item: Any, fmt: Any, status_code: int = 200) -> Response:
    out = spec.output.model_validate(item, from_attributes=True)
    return formatted({spec.singular: out.model_dump(mode="json", by_alias=True)}, fmt, status_code)


def _many(spec: CatalogSpec, items: Any, fmt: Any) -> Response:
    rows = [
        spec.output.model_validate(item, from_attributes=True).model_dump(
            mode="json", by_alias=True
        )
        for item in items
    ]
    return formatted({spec.plural: rows}, fmt)


# What a create needs beyond its required elements: a PickList field needs a non-blank value,
# and only a PickList field takes values.
CREATE_RULES: dict[str, dict[str, Any]] = {
    catalog.CUSTOM_FIELDS.singular: {
        "if": {"required": ["FieldType"], "properties": {"FieldType": {"const": "PickList"}}},
        "then": {
            "required": ["PickListValues"],
            "properties": {"PickListValues": {"type": "array", "contains": {"pattern": NOT_EMPTY}}},
        },
        "else": {
            "properties": {
                "PickListValues": {
                    "anyOf": [
                        {"type": "null"},
                        {"type": "array", "not": {"contains": {"pattern": NOT_EMPTY}}},
                    ]
                }
            }
        },
    }
}


# A change naming the type says what values go with it (the stored type decides otherwise).
CHANGE_RULES: dict[str, dict[str, Any]] = {
    catalog.CUSTOM_FIELDS.singular: {
        "allOf": [
            {
                "if": {
                    "required": ["FieldType", "PickListValues"],
                    "properties": {
                        "FieldType": {"const": "PickList"},
                        "PickListValues": {"type": "array"},
                    },
                },
                "then": {"properties": {"PickListValues": {"contains": {"pattern": NOT_EMPTY}}}},
            },
            {
                "if": {
                    "required": ["FieldType"],
                    "properties": {"FieldType": {"not": {"const": "PickList"}}},
                },
                "then": CREATE_RULES[catalog.CUSTOM_FIELDS.singular]["else"],
            },
        ]
    }
}


def required_elements(spec: catalog.CatalogSpec, *omitted: str) -> tuple[str, ...]:
    """The elements a create needs, as the body names them (`omitted`: given by the path)."""
    fields = spec.input.model_fields
    return tuple(fields[name].alias or name for name in spec.required if name not in omitted)


def add_item_routes(spec: CatalogSpec, with_list_and_create: bool = True) -> None:
    """GET/POST on the collection and GET/PUT/DELETE on one item of a catalogue resource."""
    path = f"/{spec.plural}"
    tag: list[str | Enum] = [spec.plural]

    if with_list_and_create:

        @router.get(
            path,
            tags=tag,
            response_model=answer_model(spec, many=True),
            name=f"list_{spec.plural}",
        )
        async def list_items(session: SessionDep, fmt: FormatDep) -> Response:
            return _many(spec, await catalog.list_items(session, spec), fmt)

        @router.post(
            path,
            tags=tag,
            status_code=201,
            responses=ERRORS,
            response_model=answer_model(spec),
            openapi_extra=documented_body(
                spec.input,
                spec.singular,
                required=required_elements(spec),
                rule=CREATE_RULES.get(spec.singular),
            ),
            name=f"create_{spec.singular}",
        )
        async def create_item(request: Request, session: SessionDep, fmt: FormatDep) -> Response:
            data = await read_model(request, fmt, spec.input, spec.singular)
            item = await catalog.create_item(session, spec, data)
            return _one(spec, item, fmt, 201)

    @router.get(
        f"{path}/{{ID}}",
        tags=tag,
        responses=ERRORS,
        response_model=answer_model(spec),
        name=f"get_{spec.singular}",
    )
    async def get_item(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
        return _one(spec, await catalog.get_or_404(session, spec.model, ID, spec.singular), fmt)

    @router.put(
        f"{path}/{{ID}}",
        tags=tag,
        responses=ERRORS,
        response_model=answer_model(spec),
        openapi_extra=documented_body(
            spec.input,
            spec.singular,
            not_null=required_elements(spec),
            rule=CHANGE_RULES.get(spec.singular),
        ),
        name=f"update_{spec.singular}",
    )
    async def update_item(
        ID: IdPath,
        request: Request,
        session: SessionDep,
        fmt: FormatDep,
    ) -> Response:
        item = await catalog.get_or_404(session, spec.model, ID, spec.singular)
        data = await read_model(request, fmt, spec.input, spec.singular)
        return _one(spec, await catalog.update_item(session, spec, item, data), fmt)

    @router.delete(
        f"{path}/{{ID}}",
        tags=tag,
        status_code=204,
        responses=ERRORS,
        name=f"delete_{spec.singular}",
    )
    async def delete_item(ID: IdPath, session: SessionDep) -> Response:
        item = await catalog.get_or_404(session, spec.model, ID, spec.singular)
        await catalog.delete_item(session, spec, item)
        return Response(status_code=204)


for _spec in (
    catalog.TICKET_TYPES,
    catalog.TICKET_STATUSES,
    catalog.ACTION_TYPES,
    catalog.PRODUCTS,
    catalog.CUSTOM_FIELDS,
):
    add_item_routes(_spec)
add_item_routes(catalog.VERSIONS, with_list_and_create=False)

VERSIONS = catalog.VERSIONS


@router.get(
    "/Products/{ID}/Versions",
    tags=["Versions"],
    responses=ERRORS,
    response_model=answer_model(VERSIONS, many=True),
)
async def list_versions(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    await catalog.get_or_404(session, Product, ID, "Product")
    items = await catalog.list_items(session, VERSIONS, [Version.product_id == ID])
    return _many(VERSIONS, items, fmt)


@router.post(
    "/Products/{ID}/Versions",
    tags=["Versions"],
    status_code=201,
    responses=ERRORS,
    response_model=answer_model(VERSIONS),
    openapi_extra=documented_body(
        VERSIONS.input, VERSIONS.singular, required=required_elements(VERSIONS, "product_id")
    ),
)
async def create_version(
    ID: IdPath,
    request: Request,
    session: SessionDep,
    fmt: FormatDep,
) -> Response:
    await catalog.get_or_404(session, Product, ID, "Product")
    data = await read_model(request, fmt, VERSIONS.input, VERSIONS.singular)
    item = await catalog.create_item(session, VERSIONS, data, fixed={"product_id": ID})
    return _one(VERSIONS, item, fmt, 201)
