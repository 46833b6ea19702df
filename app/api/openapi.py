"""The OpenAPI document: request bodies in both formats, XML paths documented as XML, and the
contract's Error body on every 4xx answer."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.bodies import add_documented_models
from app.core.wire import ApiModel

XML = "application/xml"
JSON = "application/json"


class ErrorDetail(ApiModel):
    code: str
    message: str


class ErrorBody(ApiModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "The request was refused; Error says why."},
    503: {"model": ErrorBody, "description": "The database is briefly unavailable; retry."},
}


def _as_xml(content: dict[str, Any]) -> dict[str, Any]:
    if JSON not in content:
        return content
    return {XML: content[JSON] if XML not in content else content[XML]}


def _each_path_in_its_format(spec: dict[str, Any]) -> None:
    """`/api/xml/…` takes and answers XML, `/api/json/…` JSON: each documents only its own."""
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            body = operation.get("requestBody")
            if path.startswith("/api/xml/"):
                if body and "content" in body:
                    body["content"] = _as_xml(body["content"])
                for response in operation.get("responses", {}).values():
                    if "content" in response:
                        response["content"] = _as_xml(response["content"])
            elif body and JSON in body.get("content", {}):
                body["content"] = {JSON: body["content"][JSON]}


def _error_bodies_everywhere(spec: dict[str, Any]) -> None:
    """A 4xx documented by code alone gets the Error body of the operation's `4XX` entry."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            fallback = responses.get("4XX", {}).get("content")
            for code, response in responses.items():
                if code.startswith("4") and "content" not in response and fallback:
                    response["content"] = fallback


def _answer_element(parameter: str) -> str | None:
    """The element of a create's answer that a path parameter naming the created thing takes."""
    if parameter.endswith("ID"):  # ID, ActionID, MappingID
        return "ID"
    return {"code": "Code", "name": "Name"}.get(parameter)


def _link_creates_to_their_items(spec: dict[str, Any]) -> None:
    """OpenAPI links from each JSON create to the operations on what it created (`/Tickets` to
    `/Tickets/{ID}`, `/Tickets/{ID}/Actions`, …), so that a generated client, or a stateful
    test, can follow a create with calls on the thing created."""
    paths = spec.get("paths", {})
    for path, operations in paths.items():
        create = operations.get("post", {})
        body = create.get("requestBody", {}).get("content", {}).get(JSON, {}).get("schema", {})
        wrapped = [o for o in body.get("anyOf", []) if o.get("type") == "object"]
        if not path.startswith("/api/json/") or "201" not in create.get("responses", {}):
            continue
        if not wrapped:
            continue
        wrapper = next(iter(wrapped[0]["properties"]))
        from_request = {name: f"$request.path.{name}" for name in re.findall(r"\{(\w+)\}", path)}
        links: dict[str, Any] = {}
        # Items live under their collection, or at the top for nested ones (`/Versions/{ID}`).
        collections = (re.escape(path), re.escape("/api/json/" + path.rsplit("/", 1)[1]))
        for item_path, item_operations in paths.items():
            match = re.fullmatch(rf"({'|'.join(collections)})/\{{(\w+)\}}(/.*)?", item_path)
            element = _answer_element(match.group(2)) if match else None
            if match is None or element is None:
                continue
            known = {k: v for k, v in from_request.items() if f"{{{k}}}" in item_path}
            parameters = {**known, match.group(2): f"$response.body#/{wrapper}/{element}"}
            for operation in item_operations.values():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": parameters,
                }
        if links:
            create["responses"]["201"]["links"] = links


def build_openapi(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    add_documented_models(spec)
    _error_bodies_everywhere(spec)
    _each_path_in_its_format(spec)
    _link_creates_to_their_items(spec)
    return spec
