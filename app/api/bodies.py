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


def documented_body(model: type[BaseModel], wrapper: str) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that takes `model` as JSON or XML."""
    DOCUMENTED_MODELS[model.__name__] = model
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    json_schema = {
        "anyOf": [ref, {"type": "object", "properties": {wrapper: ref}, "required": [wrapper]}]
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": json_schema},
                "application/xml": {"schema": ref},
            },
        }
    }


def add_documented_models(spec: dict[str, Any]) -> dict[str, Any]:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, model in DOCUMENTED_MODELS.items():
        schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(def_name, definition)
        schemas[name] = schema
    return spec
