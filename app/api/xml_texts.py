"""XML carries every value as text. One rule per JSON type says both how an element's text reads
(`read_texts`, before the model validates it) and what the OpenAPI document promises for it
(`text_schema`), so that what the spec calls valid XML is what the service accepts:

- a whole number is digits (IDs 1 to 2147483647), a yes/no is `true` or `false` in any case;
- a list is an element holding one `<Value>` per item, and an empty one is an empty list;
- an empty element is "no value" (null), as leaving the element out would be in a change.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel

from app.core.errors import BadRequest
from app.core.wire import MAX_ID

# 1 to MAX_ID (2147483647), leading zeros allowed: the digits of each power of ten, then those
# of ten digits, place by place below 2147483647.
ID_DIGITS = (
    r"0*([1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    r"|21474836[0-3][0-9]|214748364[0-7])"
)
ID_TEXT = rf"^\s*{ID_DIGITS}\s*$"
BOOLEAN_TEXT = r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])\s*$"
NOT_EMPTY = r"\S"
_ID = re.compile(ID_TEXT)
_BOOLEAN = re.compile(BOOLEAN_TEXT)


def _one_option(definition: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The definition without its null option, and whether null was allowed."""
    options = definition.get("anyOf")
    if options is None:
        return definition, False
    kept = [option for option in options if option != {"type": "null"}]
    if len(kept) != 1:
        return definition, len(kept) < len(options)
    rest = {k: v for k, v in definition.items() if k not in ("anyOf", "default")}
    return {**kept[0], **rest}, True


def _kind(definition: dict[str, Any]) -> str:
    return str(_one_option(definition)[0].get("type", "string"))


def _checked_integer(text: str, element: str) -> int:
    if _ID.fullmatch(text) is None:
        raise BadRequest(f"{element} must be a whole number from 1 to {MAX_ID}.")
    return int(text)


def _checked_boolean(text: str, element: str) -> bool:
    if _BOOLEAN.fullmatch(text) is None:
        raise BadRequest(f"{element} must be true or false.")
    return text.strip().lower() == "true"


def _read(value: Any, definition: dict[str, Any], element: str) -> Any:
    kind = _kind(definition)
    if kind == "array":
        if not isinstance(value, list):
            if str(value).strip():
                raise BadRequest(f"{element} is a list: one <Value> element per item.")
            return []
        items = _one_option(definition)[0].get("items", {})
        return [_read_item(item, items, element) for item in value]
    if value == "":
        return None
    if not isinstance(value, str):
        return value
    if kind == "integer":
        return _checked_integer(value, element)
    if kind == "boolean":
        return _checked_boolean(value, element)
    return value


def _read_item(value: str, definition: dict[str, Any], element: str) -> Any:
    """An item of a list: an empty `<Value/>` is an empty text, not "no value"."""
    if value == "" and _kind(definition) == "string":
        return ""
    return _read(value, definition, element)


@cache
def _properties(model: type[BaseModel]) -> dict[str, tuple[str, dict[str, Any]]]:
    """The model's elements by lower-cased name: (name, JSON schema definition)."""
    schema = model.model_json_schema(by_alias=True)
    return {name.lower(): (name, d) for name, d in schema.get("properties", {}).items()}


def read_texts(model: type[BaseModel], elements: dict[str, Any]) -> dict[str, Any]:
    """An XML body's element texts as the JSON values `model` takes; elements the model does not
    know are left for its validation to refuse."""
    known = _properties(model)
    read: dict[str, Any] = {}
    for key, value in elements.items():
        name, definition = known.get(key.lower(), (key, {}))
        read[key] = _read(value, definition, name) if definition else _empty_is_null(value)
    return read


def _empty_is_null(value: Any) -> Any:
    return None if value == "" else value


def text_schema(definition: dict[str, Any]) -> dict[str, Any]:
    """The schema of an element's text in XML for a property's JSON schema `definition`."""
    plain, nullable = _one_option(definition)
    kind = plain.get("type")
    if kind == "array":
        items = {**text_schema(plain.get("items", {})), "xml": {"name": "Value"}}
        described = {k: v for k, v in plain.items() if k in ("title", "description")}
        return {**described, "type": "array", "items": items, "xml": {"wrapped": True}}
    if kind == "integer":
        plain = _as_text(plain, ID_TEXT)
    elif kind == "boolean":
        plain = _as_text(plain, BOOLEAN_TEXT)
    if nullable:
        return {"anyOf": [plain, {"type": "string", "maxLength": 0}]}
    return plain


def _as_text(definition: dict[str, Any], pattern: str) -> dict[str, Any]:
    described = {k: v for k, v in definition.items() if k in ("title", "description")}
    return {**described, "type": "string", "pattern": pattern}
