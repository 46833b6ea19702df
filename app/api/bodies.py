"""Reading a request body in either format into a validated model, and documenting it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel

from app.api.formats import Format, parse_body
from app.api.xml_texts import NOT_EMPTY, read_texts, text_schema
from app.core.errors import BadRequest
from app.core.wire import validate_elements

ModelT = TypeVar("ModelT", bound=BaseModel)

# Models named in request bodies; their schemas are added to the spec's components.
DOCUMENTED_MODELS: dict[str, type[BaseModel]] = {}
# Per model, the elements a create needs: never null.
NOT_NULL: dict[str, set[str]] = {}
# The XML request bodies by component name.
XML_BODIES: dict[str, _Body] = {}
# Texts without a NUL (no database stores one); and with something else than whitespace too.
# (A lone surrogate cannot be written in a JSON Schema pattern: no valid JSON text holds one.)
STORABLE = r"^[^\u0000]*$"
STORABLE_NOT_EMPTY = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


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
        elements = read_texts(model, elements)
    return validate_elements(model, elements, read_only)


def documented_body(
    model: type[BaseModel],
    wrapper: str,
    *,
    required: tuple[str, ...] = (),
    one_of: tuple[str, ...] = (),
    min_elements: int = 0,
    rule: dict[str, Any] | None = None,
    not_null: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that takes `model` as JSON or XML, bare or wrapped in an
    object named `wrapper`. A create names the elements it needs (`required`, and `one_of` when
    any one of several will do); those can never be null, in a change either. A change that must
    name something sets `min_elements`; `rule` is a further JSON Schema condition on the body
    (one element requiring another, say); `not_null` names elements a change may leave out but
    not clear."""
    DOCUMENTED_MODELS[model.__name__] = model
    NOT_NULL.setdefault(model.__name__, set()).update(required, not_null)
    body = _Body(model.__name__, wrapper, required, one_of, min_elements, rule)
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    conditions: list[dict[str, Any]] = [ref, *body.conditions()]
    element = ref if len(conditions) == 1 else {"allOf": conditions}
    wrapped = {
        "type": "object",
        "properties": {wrapper: element},
        "required": [wrapper],
        "additionalProperties": False,
    }
    XML_BODIES.setdefault(body.xml_name, body)
    if XML_BODIES[body.xml_name] != body:
        raise ValueError(f"{body.xml_name} is documented twice, differently")
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"anyOf": [element, wrapped]}},
                "application/xml": {"schema": {"$ref": f"#/components/schemas/{body.xml_name}"}},
            },
        }
    }


@dataclass(frozen=True)
class _Body:
    """What a request body must hold beyond its model's elements, in JSON and in XML."""

    model: str
    wrapper: str
    required: tuple[str, ...]
    one_of: tuple[str, ...]
    min_elements: int
    rule: dict[str, Any] | None

    @property
    def xml_name(self) -> str:
        if self.required or self.one_of:
            return f"{self.model}XmlCreate"
        return f"{self.model}XmlChange" if self.min_elements else f"{self.model}Xml"

    def conditions(self, given: Callable[[str], dict[str, Any]] | None = None) -> list[Any]:
        present = given or _given
        conditions: list[dict[str, Any]] = []
        if self.required:
            conditions.append({"required": list(self.required)})
        if self.one_of:
            conditions.append({"anyOf": [present(name) for name in self.one_of]})
        if self.min_elements:
            conditions.append({"minProperties": self.min_elements})
        if self.rule:
            conditions.append(self.rule)
        return conditions

    def xml_schema(self, model_schema: dict[str, Any]) -> dict[str, Any]:
        """A flat schema (XML serializers read `properties` and their `xml` hints directly)."""
        properties = {
            name: text_schema(definition)
            for name, definition in model_schema.get("properties", {}).items()
        }
        schema: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
            "xml": {"name": self.wrapper},
        }
        if "required" in model_schema:
            schema["required"] = list(model_schema["required"])
        conditions = self.conditions(_given_in_xml)
        if conditions:
            schema["allOf"] = conditions
        return schema


def _given(element: str) -> dict[str, Any]:
    """The element is there, and not null (null means "no value")."""
    return {"required": [element], "properties": {element: {"not": {"type": "null"}}}}


def _given_in_xml(element: str) -> dict[str, Any]:
    """The element is there, and not empty (empty means "no value")."""
    return {"required": [element], "properties": {element: {"pattern": NOT_EMPTY}}}


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
            properties[element] = _xml_list(_storable(_non_blank(_without_default(definition))))
        schemas[name] = schema
    for xml_name, body in XML_BODIES.items():
        schemas[xml_name] = body.xml_schema(schemas[body.model])
    return spec


def _without_default(definition: dict[str, Any]) -> dict[str, Any]:
    """An element left out of a body is left as it is: no input element has a default."""
    return {k: v for k, v in definition.items() if k != "default"}


def _without_null(definition: dict[str, Any]) -> dict[str, Any]:
    """A needed element: never null, and a text never empty."""
    options = [o for o in definition.get("anyOf", []) if o != {"type": "null"}]
    if len(options) == 1:
        kept = {k: v for k, v in definition.items() if k not in ("anyOf", "default")}
        definition = {**options[0], **kept}
    if definition.get("type") == "string":
        return {**definition, "minLength": max(1, definition.get("minLength", 0))}
    return definition


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
        return {"pattern": NOT_EMPTY, **definition}
    if "anyOf" in definition:
        return {**definition, "anyOf": [_non_blank(option) for option in definition["anyOf"]]}
    return definition


def _storable(definition: dict[str, Any]) -> dict[str, Any]:
    """No text may hold a NUL."""
    if definition.get("type") == "string" and "enum" not in definition:
        pattern = definition.get("pattern")
        if pattern is None:
            return {**definition, "pattern": STORABLE}
        if pattern == NOT_EMPTY:
            return {**definition, "pattern": STORABLE_NOT_EMPTY}
        return definition  # a pattern of its own names the characters it allows
    if definition.get("type") == "array":
        return {**definition, "items": _storable(definition.get("items", {}))}
    if "anyOf" in definition:
        return {**definition, "anyOf": [_storable(option) for option in definition["anyOf"]]}
    return definition
