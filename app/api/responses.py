"""Responses in the caller's format, including the contract's Error body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from app.api.formats import Format, format_for_path, render
from app.core.errors import ApiError, Unauthorized

CRM_PATH_PREFIX = "/plugins/servlet/crm"


def formatted(
    data: Mapping[str, Any],
    fmt: Format,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        render(data, fmt),
        status_code=status_code,
        media_type=fmt.media_type,
        headers=dict(headers or {}),
    )


def error_response_for_path(path: str, error: ApiError) -> Response:
    """The Error body in the shape the path's callers expect (TeamSupport JSON/XML or CRM)."""
    headers: dict[str, str] = {}
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Basic realm="helpdesk", Bearer'
    if path.startswith(CRM_PATH_PREFIX):
        body = json.dumps({"success": False, "error": error.message, "code": error.code})
        return Response(
            body, status_code=error.status_code, media_type="application/json", headers=headers
        )
    payload = {"Error": {"Code": error.code, "Message": error.message}}
    return formatted(payload, format_for_path(path), error.status_code, headers)
