"""Reading a request body in either format into a validated model, and documenting it."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel

from app.api.formats import Format, parse_body
from app.core.errors import BadRequest
from app.core.wire import validate_elements

ModelT = TypeVar("ModelT", bound=BaseModel)

# Models named in request bodies; their schemas are added to the spec's components.
DOCUMENTED_MODELS: dict[str, type[BaseModel]] = {}
# Per model, the elements a create needs: never null.
NOT_NULL: dict[str, set[str]] = {}


async def read_elements(request: Request, fmt: Format, wrapper: str) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise BadRequest(f"A {wrapper} body is required.")
    return parse_body(raw, request.headers.get("content-type"), fmt, wrapper)


async def read_model(
    request: Request,
    fmt: Format,
    model: type[ModelT],
    wrapper: str,
    read_only: frozenset[str] = frozenset(),
) -> ModelT:
    elements = await read_elements(request, fmt, wrapper)
    if fmt is Format.XML:
        elements = {key: (None if value == "" else value) for key, value in elements.items()}
    return validate_elements(model, elements, read_only)


def documented_body(
    model: type[BaseModel],
    wrapper: str,
    *,
    required: tuple[str, ...] = (),
    one_of: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that takes `model` as JSON or XML, bare or wrapped in an
    object named `wrapper`. A create names the elements it needs (`required`, and `one_of` when
    any one of several will do); those can never be null, in a change either."""
    DOCUMENTED_MODELS[model.__name__] = model
    NOT_NULL.setdefault(model.__name__, set()).update(required)
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    element: dict[str, Any] = ref
    if required or one_of:
        conditions: list[dict[str, Any]] = [ref]
        if required:
            conditions.append({"required": list(required)})
        if one_of:
            conditions.append({"anyOf": [_given(name) for name in one_of]})
        element = {"allOf": conditions}
    wrapped = {
        "type": "object",
        "properties": {wrapper: element},
        "required": [wrapper],
        "additionalProperties": False,
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"anyOf": [element, wrapped]}},
                "application/xml": {"schema": {**element, "xml": {"name": wrapper}}},
            },
        }
    }


def _given(element: str) -> dict[str, Any]:
    """The element is there, and not null (null means "no value")."""
    return {"required": [element], "properties": {element: {"not": {"type": "null"}}}}


def add_documented_models(spec: dict[str, Any]) -> dict[str, Any]:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, model in DOCUMENTED_MODELS.items():
        schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(def_name, definition)
        properties = schema.get("properties", {})
        for element in NOT_NULL.get(name, ()):
            properties[element] = _without_null(properties[element])
        for element, definition in properties.items():
            properties[element] = _xml_list(_non_blank(definition))
        schemas[name] = schema
    return spec


def _without_null(definition: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in definition.get("anyOf", []) if o != {"type": "null"}]
    if len(options) != 1:
        return definition
    kept = {k: v for k, v in definition.items() if k not in ("anyOf", "default")}
    return {**options[0], **kept}


def _xml_list(definition: dict[str, Any]) -> dict[str, Any]:
    """In XML a list is an element holding one element per item: `<Values><Value>a</Value>…`."""
    if definition.get("type") == "array":
        items = {**definition.get("items", {}), "xml": {"name": "Value"}}
        return {**definition, "items": items, "xml": {"wrapped": True}}
    if "anyOf" in definition:
        return {**definition, "anyOf": [_xml_list(option) for option in definition["anyOf"]]}
    return definition


def _non_blank(definition: dict[str, Any]) -> dict[str, Any]:
    """Texts are read with surrounding whitespace removed: one that must not be empty must hold
    something else than whitespace."""
    if definition.get("type") == "string" and definition.get("minLength", 0) >= 1:
        return {"pattern": r"\S", **definition}
    if "anyOf" in definition:
        return {**definition, "anyOf": [_non_blank(option) for option in definition["anyOf"]]}
    return definition
