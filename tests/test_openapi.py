"""The committed OpenAPI spec is the app's spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import pytest

from app.__main__ import render_openapi
from app.api.xml_texts import BOOLEAN_TEXT, ID_TEXT
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


SPEC = json.loads((Path(__file__).resolve().parents[1] / "openapi" / "openapi.json").read_text())


def body_schema_accepts(path: str, method: str, body: object, media: str = "json") -> bool:
    """Whether `body` is valid by the committed spec's request schema of that operation."""
    pointer = "/".join(
        quote(part.replace("~", "~0").replace("/", "~1"), safe="~")
        for part in ("paths", path, method, "requestBody", "content", f"application/{media}")
    )
    validator = jsonschema_rs.validator_for({**SPEC, "$ref": f"#/{pointer}/schema"})
    return bool(validator.is_valid(body))


# What the service accepts is what the spec says: a create names the elements it needs, a name
# holds more than whitespace, elements that cannot be cleared are never null.
REQUEST_BODIES = [
    ("/api/json/TicketTypes", "post", {"TicketType": {"Name": "Bug"}}, True),
    ("/api/json/TicketTypes", "post", {"Name": "Bug"}, True),
    ("/api/json/TicketTypes", "post", {"TicketType": {}}, False),
    ("/api/json/TicketTypes", "post", {"Name": "   "}, False),
    ("/api/json/TicketTypes", "post", {"Name": "Bug", "Colour": "red"}, False),
    ("/api/json/TicketTypes/{ID}", "put", {}, True),
    ("/api/json/TicketTypes/{ID}", "put", {"Name": None}, False),
    ("/api/json/TicketStatuses", "post", {"Name": "Open"}, False),
    ("/api/json/TicketStatuses", "post", {"Name": "Open", "TicketTypeID": 1}, True),
    ("/api/json/Products/{ID}/Versions", "post", {"VersionNumber": "1.0"}, True),
    ("/api/json/Tickets", "post", {"Name": "x"}, False),
    ("/api/json/Tickets", "post", {"Name": "x", "TicketTypeName": "Bug"}, True),
    ("/api/json/Tickets", "post", {"Name": "x", "TicketTypeName": None}, False),
    (
        "/api/json/Tickets",
        "post",
        {"Name": "x", "TicketTypeID": None, "TicketTypeName": "Bug"},
        True,
    ),
    ("/api/json/Tickets", "post", {"Ticket": {"Name": "x", "TicketTypeID": 1}}, True),
    ("/api/json/Tickets/{ID}/Actions", "post", {"ActionType": "Comment"}, False),
    ("/api/json/JiraInstances", "post", {"HostName": "https://a.example"}, False),
    ("/api/json/JiraInstances/{ID}/Mappings", "post", {"MappingType": "Ticket"}, False),
    ("/api/json/Crm/Tables", "post", {"Code": "PETS", "Name": "Pets"}, True),
    ("/api/json/Crm/Tables", "post", {"Code": "9PETS", "Name": "Pets"}, False),
    ("/api/json/Crm/Users/{user_name}", "put", {"Rights": ["Search CRM objects"]}, True),
    ("/api/json/Crm/Users/{user_name}", "put", {"Rights": ["Fly"]}, False),
    ("/api/json/Crm/Dictionaries", "post", {"Values": ["Red"]}, False),
]


@pytest.mark.parametrize(("path", "method", "body", "valid"), REQUEST_BODIES)
def test_request_schemas_say_what_is_accepted(
    path: str, method: str, body: object, valid: bool
) -> None:
    assert body_schema_accepts(path, method, body) is valid


def _xml_body(path: str, method: str) -> dict[str, Any]:
    content = SPEC["paths"][path][method]["requestBody"]["content"]
    name = content["application/xml"]["schema"]["$ref"].rsplit("/", 1)[1]
    return dict(SPEC["components"]["schemas"][name])


def test_xml_bodies_are_named_by_their_element() -> None:
    assert _xml_body("/api/xml/Tickets", "post")["xml"] == {"name": "Ticket"}


def test_xml_bodies_are_flat_with_every_value_a_text() -> None:
    """XML serializers read an element's properties and their `xml` hints directly (no allOf),
    and XML carries no numbers or booleans: IDs and yes/no are texts of a stated form."""
    properties = _xml_body("/api/xml/JiraInstances", "post")["properties"]
    assert properties["SyncActive"]["pattern"] == BOOLEAN_TEXT
    assert properties["AllowedTicketTypeIDs"]["items"]["pattern"] == ID_TEXT
    assert properties["AllowedTicketTypeIDs"]["xml"] == {"wrapped": True}


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_crm_command_parameters_are_described(method: str) -> None:
    parameters = SPEC["paths"]["/plugins/servlet/crm/api"][method]["parameters"]
    by_name = {p["name"]: p for p in parameters}
    assert {"command", "apiKey", "userName"} <= set(by_name)
    assert "searchentities" in by_name["command"]["schema"]["enum"]
    assert all(by_name[name]["required"] for name in ("command", "apiKey", "userName"))


def test_the_auth_schemes_are_declared() -> None:
    assert set(SPEC["components"]["securitySchemes"]) == {"ApiTokenBasic", "ApiTokenBearer"}
    assert {"ApiTokenBasic": []} in SPEC["paths"]["/api/json/Tickets"]["get"]["security"]
