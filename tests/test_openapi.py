"""The committed OpenAPI spec is the app's spec."""

from __future__ import annotations

import json
from pathlib import Path

from app.__main__ import render_openapi
from app.main import create_app


def test_committed_spec_matches_the_app(repo_root: Path) -> None:
    committed = (repo_root / "openapi" / "openapi.json").read_text()
    assert committed == render_openapi(create_app()), (
        "openapi/openapi.json is out of date: run `make openapi` and commit the result"
    )


def test_spec_documents_both_formats() -> None:
    spec = create_app().openapi()
    paths = spec["paths"]
    for resource in ("TicketTypes", "TicketStatuses", "ActionTypes", "Products", "CustomFields"):
        assert f"/api/json/{resource}" in paths
        assert f"/api/xml/{resource}/{{ID}}" in paths
    assert "/api/xml/Tickets/{ID}/History" in paths
    assert set(paths["/api/json/Tickets"]["post"]["requestBody"]["content"]) == {"application/json"}
    assert set(paths["/api/xml/Tickets"]["post"]["requestBody"]["content"]) == {"application/xml"}
    assert json.dumps(spec)  # serialisable
