"""Schemathesis checks for this service, loaded by `st run` (SCHEMATHESIS_HOOKS=tests.fuzz.checks)
in place of its `positive_data_acceptance` and `negative_data_rejection`: the same checks, judged
on the body as it went on the wire, and aware of the two refusals no schema can rule out."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema_rs
import schemathesis
from schemathesis import CheckContext, Response
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from app.api.formats import Format, parse_body
from app.core.errors import BadRequest

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
# A valid body naming an ID or name that does not exist (`BadReference`), or a HostName of the
# documented form naming a host the service will not call (IDNA rules, metadata or private
# addresses: `HostNameRefused`).
BEYOND_A_SCHEMA = {"BadReference", "HostNameRefused"}


def _error_code(response: Response) -> str | None:
    try:
        if response.headers.get("content-type", [""])[0].startswith("application/xml"):
            return ElementTree.fromstring(response.content).findtext("Code")
        return str(response.json()["Error"]["Code"])
    except (ElementTree.ParseError, ValueError, KeyError, TypeError):
        return None


def _xml_sent_is_valid(response: Response, case: Any) -> bool | None:
    """Whether the XML body as it went on the wire is valid by the spec (None: not an XML body).
    Schemathesis writes a generated null as the text "null" and drops NULs from texts, so the
    body it meant and the body it sent can differ; the sent one is what the service judged."""
    body = SPEC["paths"][case.path].get(case.method.lower(), {}).get("requestBody")
    sent = response.request.body
    if body is None or "application/xml" not in body["content"] or not sent:
        return None
    reference = body["content"]["application/xml"]["schema"]["$ref"]
    element = SPEC["components"]["schemas"][reference.rsplit("/", 1)[1]]
    try:
        raw = sent if isinstance(sent, bytes) else sent.encode()
        elements = parse_body(raw, "application/xml", Format.XML, element["xml"]["name"])
    except BadRequest:
        return False
    for name, value in elements.items():
        if value == "" and element["properties"].get(name, {}).get("type") == "array":
            elements[name] = []  # an empty list element
    return _validator(reference).is_valid(elements)


@cache
def _validator(reference: str) -> Any:
    """One compiled validator per body schema (the whole spec is its root), not one a case."""
    return jsonschema_rs.validator_for({**SPEC, "$ref": reference})


@schemathesis.check
def valid_data_accepted(ctx: CheckContext, response: Response, case: Any) -> bool | None:
    """`positive_data_acceptance`, except for what no schema can rule out (`BEYOND_A_SCHEMA`)."""
    if response.status_code == 400 and _error_code(response) in BEYOND_A_SCHEMA:
        return None
    if _xml_sent_is_valid(response, case) is False:
        return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.check
def invalid_data_refused(ctx: CheckContext, response: Response, case: Any) -> bool | None:
    """`negative_data_rejection`, judged on the XML body as sent."""
    if _xml_sent_is_valid(response, case) is True:
        return None
    return negative_data_rejection(ctx, response, case)
