"""JSON and XML bodies for the TeamSupport-style API: one parser and one renderer for both."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

from app.core.errors import BadRequest, UnsupportedMediaType
from app.core.wire import UNSTORABLE_CHARS

JSON_TYPES = {"application/json", "text/json"}
XML_TYPES = {"application/xml", "text/xml"}
# Names of the items inside list elements of a record, e.g. <PickListValues><Value>…</Value>.
# Characters XML 1.0 cannot carry (stored text may hold them when it came in as JSON).
NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
LIST_ITEM_NAMES = {"AllowedTicketTypeIDs": "ID", "Rights": "Right"}


class Format(StrEnum):
    JSON = "json"
    XML = "xml"

    @property
    def media_type(self) -> str:
        return "application/json" if self is Format.JSON else "application/xml; charset=utf-8"


def format_for_path(path: str) -> Format:
    return Format.XML if path.startswith("/api/xml/") or path == "/api/xml" else Format.JSON


def parse_body(raw: bytes, content_type: str | None, fmt: Format, wrapper: str) -> dict[str, Any]:
    """Parse a request body into a flat dict of element name -> text, list or JSON value.

    The body may be wrapped in its resource element (`{"Ticket": {...}}`, `<Ticket>…</Ticket>`).
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    accepted = JSON_TYPES if fmt is Format.JSON else XML_TYPES
    if media and media not in accepted and not media.endswith(f"+{fmt.value}"):
        raise UnsupportedMediaType(
            f"Content-Type {media!r} is not accepted here; send {sorted(accepted)[0]}."
        )
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8-sig")  # a leading byte order mark is allowed
    except UnicodeDecodeError as exc:
        raise BadRequest("The request body is not valid UTF-8.") from exc
    return _parse_json(text, wrapper) if fmt is Format.JSON else _parse_xml(text, wrapper)


def _parse_json(text: str, wrapper: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: also integers over 4300 digits
        raise BadRequest(f"Malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest(f"The JSON body must be an object ({wrapper} or its elements).")
    if len(data) == 1:
        ((key, value),) = data.items()
        if key.lower() == wrapper.lower():
            if not isinstance(value, dict):
                raise BadRequest(f"{wrapper} must be an object.")
            data = value
    for key, value in data.items():
        if _unstorable(key) or _unstorable(value):
            raise BadRequest(f"Element {key!r} contains a NUL character or a lone surrogate.")
        if isinstance(value, dict):
            raise BadRequest(f"Element {key!r} must be a value, not an object.")
        if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
            raise BadRequest(f"Element {key!r} must be a list of values.")
    return data


def _unstorable(value: Any) -> bool:
    """NUL (PostgreSQL text cannot hold it) or a lone surrogate (not encodable as UTF-8)."""
    if isinstance(value, str):
        return UNSTORABLE_CHARS.search(value) is not None
    return isinstance(value, list) and any(_unstorable(item) for item in value)


def _parse_xml(text: str, wrapper: str) -> dict[str, Any]:
    try:
        root = parse_xml(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadRequest("XML with DTDs, entities or external references is refused.") from exc
    except (ParseError, ValueError) as exc:
        raise BadRequest(f"Malformed XML: {exc}") from exc
    if root.tag.lower() != wrapper.lower():
        raise BadRequest(f"Expected a <{wrapper}> element, got <{root.tag}>.")
    if (root.text or "").strip() and not len(root):
        raise BadRequest(f"<{root.tag}> holds text; its values are elements inside it.")
    data: dict[str, Any] = {}
    for child in root:
        if child.tag in data:
            raise BadRequest(f"Element {child.tag!r} appears more than once.")
        if len(child):
            if any(len(grandchild) for grandchild in child):
                raise BadRequest(f"Element {child.tag!r} is nested too deeply.")
            data[child.tag] = [(item.text or "").strip() for item in child]
        else:
            data[child.tag] = child.text or ""
    return data


def render(data: Mapping[str, Any], fmt: Format) -> bytes:
    """Render `{"Ticket": {...}}` or `{"Tickets": [{...}, …]}` as JSON or XML."""
    if fmt is Format.JSON:
        return json.dumps(data, default=_json_default, ensure_ascii=False).encode()
    ((root_name, content),) = data.items()
    root = Element(root_name)
    if isinstance(content, list):
        item_name = singular(root_name)
        for item in content:
            _fill(SubElement(root, item_name), item)
    else:
        _fill(root, content)
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(root, encoding="unicode").encode()


def singular(plural: str) -> str:
    """The item element of a list: `Tickets` → `Ticket`, `TicketStatuses` → `TicketStatus`,
    `EventDeliveries` → `EventDelivery`."""
    if plural.endswith(("uses", "sses")):
        return plural[:-2]
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    return plural[:-1] if plural.endswith("s") else "Item"


def _fill(element: Element, record: Mapping[str, Any]) -> None:
    for key, value in record.items():
        child = SubElement(element, xml_name(key))
        if isinstance(value, list):
            item_name = LIST_ITEM_NAMES.get(key, "Value")
            for item in value:
                SubElement(child, item_name).text = _xml_text(item)
        else:
            child.text = _xml_text(value)


def xml_name(name: str) -> str:
    """A valid XML element name for a field name (custom field names may contain spaces)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in name)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return NOT_XML_CHARS.sub("\ufffd", str(value))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
