"""A table of bad requests: each answers the right 4xx with the contract's Error body and leaves
the database exactly as it was."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.api import HelpdeskApi, parse_answer, to_xml
from tests.support.database import DatabaseReset, table_contents

MIB = 1024 * 1024
BIG = 10**20
UNREPRESENTABLE_MOMENTS = {
    "max-west": "9999-12-31T23:59:59-23:59",
    "max-west-1h": "9999-12-31T23:30:00-01:00",
    "min-east": "0001-01-01T00:00:00+01:00",
    "min-east-max": "0001-01-01T23:58:59+23:59",
}


@dataclass(frozen=True)
class Bad:
    """One bad request; `{ticket}` in the path is the prepared ticket's ID."""

    id: str
    fmt: str
    method: str
    path: str
    body: bytes | None
    status: int
    message: str = ""
    code: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False

    @property
    def content_type(self) -> str:
        return "application/json" if self.fmt == "json" else "application/xml"


def both(
    id: str,
    method: str,
    path: str,
    data: dict[str, Any] | None,
    status: int = 400,
    message: str = "",
    wrapper: str | None = None,
) -> list[Bad]:
    """The same bad elements, sent once as JSON and once as XML."""
    name = wrapper or _wrapper(path)
    json_body = None if data is None else json.dumps({name: data}).encode()
    xml_body = None if data is None else to_xml(name, data)
    return [
        Bad(f"json-{id}", "json", method, path, json_body, status, message),
        Bad(f"xml-{id}", "xml", method, path, xml_body, status, message),
    ]


def _wrapper(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{") and not p.isdigit()]
    last = parts[-1]
    return {"TicketStatuses": "TicketStatus", "History": "History"}.get(last, last.rstrip("s"))


def json_bad(
    id: str, path: str, body: bytes | str, status: int = 400, message: str = "", **kw: Any
) -> Bad:
    raw = body.encode() if isinstance(body, str) else body
    return Bad(f"json-{id}", "json", kw.pop("method", "POST"), path, raw, status, message, **kw)


def xml_bad(
    id: str, path: str, body: bytes | str, status: int = 400, message: str = "", **kw: Any
) -> Bad:
    raw = body.encode() if isinstance(body, str) else body
    return Bad(f"xml-{id}", "xml", kw.pop("method", "POST"), path, raw, status, message, **kw)


TICKET = {"Name": "x", "TicketTypeName": "Bug"}
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Ticket><Name>&lol4;</Name><TicketTypeName>Bug</TicketTypeName></Ticket>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE Ticket [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Ticket><Name>&xxe;</Name><TicketTypeName>Bug</TicketTypeName></Ticket>"""
DTD_ONLY = """<?xml version="1.0"?>
<!DOCTYPE Ticket SYSTEM "http://example.invalid/ticket.dtd">
<Ticket><Name>x</Name><TicketTypeName>Bug</TicketTypeName></Ticket>"""
DEEP_JSON = '{"Name": ' + "[" * 100_000 + "]" * 100_000 + "}"
DEEP_XML = "<Ticket>" + "<a>" * 50_000 + "</a>" * 50_000 + "</Ticket>"

CASES: list[Bad] = [
    # Malformed bodies
    json_bad("malformed", "/Tickets", '{"Name": "x",', message="Malformed JSON"),
    json_bad("not-an-object", "/Tickets", "[1, 2]", message="must be an object"),
    json_bad("a-string", "/TicketTypes", '"Bug"', message="must be an object"),
    json_bad("wrapper-not-object", "/Tickets", '{"Ticket": 5}', message="must be an object"),
    json_bad("element-is-object", "/Tickets", '{"Name": {"a": 1}}', message="'Name'"),
    json_bad("list-of-objects", "/CustomFields", '{"PickListValues": [{}]}', message="list"),
    json_bad("deeply-nested", "/Tickets", DEEP_JSON),
    json_bad("nan-literal", "/Tickets", '{"Name": "x", "TicketTypeID": NaN}'),
    xml_bad("malformed", "/Tickets", "<Ticket><Name>x</Ticket>", message="Malformed XML"),
    xml_bad("not-xml", "/Tickets", "Name=x", message="Malformed XML"),
    xml_bad("wrong-root", "/Tickets", "<Product><Name>x</Name></Product>", message="<Ticket>"),
    xml_bad("text-root", "/TicketTypes", "<TicketType>true</TicketType>", message="holds text"),
    xml_bad(
        "namespaced-root", "/Tickets", '<t:Ticket xmlns:t="urn:x"><t:Name>x</t:Name></t:Ticket>'
    ),
    xml_bad(
        "duplicate-element",
        "/Tickets",
        "<Ticket><Name>a</Name><Name>b</Name></Ticket>",
        message="more than once",
    ),
    xml_bad(
        "nested-too-deeply",
        "/Tickets",
        "<Ticket><Name><a><b>x</b></a></Name></Ticket>",
        message="too deeply",
    ),
    xml_bad("deeply-nested", "/Tickets", DEEP_XML),
    xml_bad(
        "list-for-a-value",
        "/Tickets",
        "<Ticket><Name><Value>a</Value></Name><TicketTypeName>Bug</TicketTypeName></Ticket>",
        message="Name",
    ),
    xml_bad("billion-laughs", "/Tickets", BILLION_LAUGHS, message="refused"),
    xml_bad("external-entity", "/Tickets", XXE, message="refused"),
    xml_bad("dtd", "/Tickets", DTD_ONLY, message="refused"),
    xml_bad(
        "invalid-character",
        "/Tickets",
        "<Ticket><Name>a\x01b</Name></Ticket>",
        message="Malformed XML",
    ),
    # Encoding and content type
    json_bad("invalid-utf8", "/TicketTypes", b'{"Name": "\xff\xfe"}', message="UTF-8"),
    xml_bad(
        "invalid-utf8",
        "/TicketTypes",
        b"<TicketType><Name>\xff</Name></TicketType>",
        message="UTF-8",
    ),
    json_bad("nul-character", "/TicketTypes", '{"Name": "a\\u0000b"}', message="NUL"),
    json_bad("lone-surrogate", "/TicketTypes", '{"Name": "a\\ud800b"}', message="surrogate"),
    json_bad("huge-integer", "/Tickets", '{"Name": "x", "TicketTypeID": ' + "1" * 5000 + "}"),
    json_bad("byte-order-mark-then-garbage", "/Tickets", b"\xef\xbb\xbf{", message="Malformed"),
    json_bad(
        "text-plain", "/TicketTypes", '{"Name": "x"}', 415, headers={"Content-Type": "text/plain"}
    ),
    json_bad(
        "xml-to-json",
        "/TicketTypes",
        "<TicketType/>",
        415,
        headers={"Content-Type": "application/xml"},
    ),
    xml_bad(
        "json-to-xml",
        "/TicketTypes",
        '{"Name": "x"}',
        415,
        headers={"Content-Type": "application/json"},
    ),
    xml_bad(
        "form",
        "/Tickets",
        "Name=x",
        415,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    # Size
    json_bad("over-1mib", "/Tickets", '{"Name": "' + "x" * MIB + '"}', 413),
    json_bad("over-1mib-chunked", "/Tickets", '{"Name": "' + "x" * MIB + '"}', 413, chunked=True),
    xml_bad("over-1mib", "/Tickets", "<Ticket><Name>" + "x" * MIB + "</Name></Ticket>", 413),
    xml_bad(
        "over-1mib-chunked",
        "/Tickets",
        "<Ticket><Name>" + "x" * MIB + "</Name></Ticket>",
        413,
        chunked=True,
    ),
    # Elements: unknown, read-only, missing
    *both("unknown-element", "POST", "/TicketTypes", {"Nmae": "Bug"}, message="Nmae"),
    *both(
        "unknown-ticket-element", "POST", "/Tickets", {**TICKET, "Colour": "red"}, message="Colour"
    ),
    *both("read-only-id", "POST", "/Tickets", {**TICKET, "ID": 5}, message="ID"),
    *both(
        "read-only-number", "PUT", "/Tickets/{ticket}", {"TicketNumber": 5}, message="TicketNumber"
    ),
    *both(
        "read-only-created",
        "PUT",
        "/Tickets/{ticket}",
        {"DateCreated": "2020-01-01"},
        message="DateCreated",
    ),
    *both(
        "read-only-modified",
        "POST",
        "/Tickets",
        {**TICKET, "DateModified": "2020-01-01"},
        message="DateModified",
    ),
    *both(
        "read-only-sync-status",
        "POST",
        "/Tickets",
        {**TICKET, "JiraSyncStatus": "Linked"},
        message="JiraSyncStatus",
    ),
    *both(
        "read-only-link",
        "POST",
        "/Tickets",
        {**TICKET, "JiraLinkURL": "http://x"},
        message="JiraLinkURL",
    ),
    *both(
        "read-only-action-source",
        "POST",
        "/Tickets/{ticket}/Actions",
        {"Description": "d", "Source": "Jira"},
        message="Source",
    ),
    *both("id-on-a-type", "POST", "/TicketTypes", {"ID": 3, "Name": "x"}, message="ID"),
    *both("missing-name", "POST", "/Tickets", {"TicketTypeName": "Bug"}, message="Name"),
    *both("empty-name", "PUT", "/Tickets/{ticket}", {"Name": ""}, message="Name"),
    *both("name-too-long", "POST", "/TicketTypes", {"Name": "x" * 256}, message="Name"),
    *both("empty-body", "POST", "/Tickets", None, message="body is required"),
    *both("empty-type-body", "POST", "/TicketTypes", None, message="body is required"),
    *both("empty-action", "POST", "/Tickets/{ticket}/Actions", None, message="body is required"),
    # Wrong types
    *both(
        "text-for-id",
        "POST",
        "/Tickets",
        {"Name": "x", "TicketTypeID": "abc"},
        message="TicketTypeID",
    ),
    *both(
        "fraction-for-id",
        "POST",
        "/Tickets",
        {"Name": "x", "TicketTypeID": 1.5},
        message="TicketTypeID",
    ),
    *both(
        "bad-boolean",
        "POST",
        "/TicketStatuses",
        {"Name": "s", "TicketTypeID": 1, "IsClosed": "maybe"},
        message="IsClosed",
    ),
    *both(
        "bad-field-type",
        "POST",
        "/CustomFields",
        {"Name": "f", "FieldType": "Colour"},
        message="FieldType",
    ),
    *both(
        "number-field-text",
        "POST",
        "/Tickets",
        {**TICKET, "Count": "many"},
        message="Count must be a number",
    ),
    *both(
        "number-field-huge",
        "POST",
        "/Tickets",
        {**TICKET, "Count": "1e999999999999999999"},
        message="Count",
    ),
    *both(
        "number-field-long", "POST", "/Tickets", {**TICKET, "Count": "1e999999"}, message="Count"
    ),
    *both(
        "number-field-infinity",
        "POST",
        "/Tickets",
        {**TICKET, "Count": "Infinity"},
        message="Count",
    ),
    *both(
        "date-field-bad",
        "POST",
        "/Tickets",
        {**TICKET, "Due": "2024-13-01"},
        message="Due must be a date",
    ),
    *both(
        "boolean-field-bad",
        "POST",
        "/Tickets",
        {**TICKET, "Urgent": "perhaps"},
        message="Urgent must be true or false",
    ),
    *both(
        "pick-list-not-in-list",
        "POST",
        "/Tickets",
        {**TICKET, "Severity": "Medium"},
        message="Severity must be one of",
    ),
    *both(
        "pick-list-values-on-put",
        "PUT",
        "/Tickets/{ticket}",
        {"Severity": "Medium"},
        message="Severity",
    ),
    # Unknown references
    *both(
        "unknown-type-name",
        "POST",
        "/Tickets",
        {"Name": "x", "TicketTypeName": "Nope"},
        message="Nope",
    ),
    *both("unknown-status", "POST", "/Tickets", {**TICKET, "Status": "Nope"}, message="Nope"),
    *both("unknown-product", "POST", "/Tickets", {**TICKET, "ProductName": "Nope"}, message="Nope"),
    *both(
        "unknown-version",
        "POST",
        "/Tickets",
        {**TICKET, "ProductName": "Widget", "ReportedVersion": "9"},
        message="'9'",
    ),
    *both(
        "unknown-action-type",
        "POST",
        "/Tickets/{ticket}/Actions",
        {"Description": "d", "ActionType": "Nope"},
        message="Nope",
    ),
    *both("unknown-type-id", "POST", "/Tickets", {"Name": "x", "TicketTypeID": 999}, message="999"),
    *both("unknown-status-id", "POST", "/Tickets", {**TICKET, "StatusID": 999}, message="999"),
    *both("unknown-product-id", "PUT", "/Tickets/{ticket}", {"ProductID": 999}, message="999"),
    *both(
        "unknown-version-id",
        "POST",
        "/Tickets",
        {**TICKET, "ProductName": "Widget", "ReportedVersionID": 999},
        message="999",
    ),
    *both(
        "huge-type-id",
        "POST",
        "/Tickets",
        {"Name": "x", "TicketTypeID": BIG},
        message="TicketTypeID",
    ),
    *both("huge-product-id", "POST", "/Tickets", {**TICKET, "ProductID": BIG}, message="ProductID"),
    *both(
        "status-for-unknown-type",
        "POST",
        "/TicketStatuses",
        {"Name": "s", "TicketTypeID": 999},
        message="999",
    ),
    *both(
        "product-unknown-instance",
        "POST",
        "/Products",
        {"Name": "p", "JiraInstanceID": 999},
        message="999",
    ),
    *both("duplicate-type", "POST", "/TicketTypes", {"Name": "bug"}, 409),
    *both(
        "status-unset-default",
        "PUT",
        "/TicketStatuses/1",
        {"IsDefault": False},
        409,
        message="default",
    ),
    # Values as XML texts: whole numbers are digits, yes/no is true or false
    # (tests/api/test_xml_texts.py has the spellings accepted)
    *[
        xml_bad(f"{element}-{value}", path, body.format(value), message=message, method=method)
        for element, method, path, body, message in (
            (
                "type-id",
                "POST",
                "/Tickets",
                "<Ticket><Name>x</Name><TicketTypeID>{}</TicketTypeID></Ticket>",
                "TicketTypeID must be a whole number",
            ),
            (
                "sync-active",
                "PUT",
                "/JiraInstances/1",
                "<JiraInstance><SyncActive>{}</SyncActive></JiraInstance>",
                "SyncActive must be true or false",
            ),
        )
        for value in ("7.0", "1_000", "yes", "0", "2147483648")
    ],
    *both("null-flag", "PUT", "/JiraInstances/1", {"SyncActive": None}, message="SyncActive"),
    # Paths and queries
    Bad("json-huge-path-id", "json", "GET", f"/Tickets/{BIG}", None, 400, "ID"),
    Bad("xml-huge-path-id", "xml", "PUT", f"/TicketTypes/{BIG}", b"<TicketType/>", 400, "ID"),
    Bad(
        "json-huge-action-id",
        "json",
        "GET",
        f"/Tickets/{{ticket}}/Actions/{BIG}",
        None,
        400,
        "ActionID",
    ),
    Bad("json-text-path-id", "json", "GET", "/Tickets/abc", None, 400, "ID"),
    Bad("xml-huge-filter", "xml", "GET", f"/Tickets?ProductID={BIG}", None, 400, "ProductID"),
    Bad("json-huge-type-filter", "json", "GET", f"/Tickets?TicketTypeID={BIG}", None, 400),
    Bad("json-nul-in-status-filter", "json", "GET", "/Tickets?Status=a%00b", None, 400, "Status"),
    Bad("xml-nul-in-jira-key-filter", "xml", "GET", "/Tickets?JiraKey=%00", None, 400, "JiraKey"),
    Bad("json-bad-date-filter", "json", "GET", "/Tickets?DateModifiedSince=soon", None, 400),
    *[
        Bad(f"{fmt}-{name}-{label}", fmt, "GET", f"{path}={quote(moment)}", None, 400, param)
        for fmt in ("json", "xml")
        for path, param, name in (
            ("/Tickets?DateModifiedSince", "DateModifiedSince", "tickets"),
            ("/Reports/CrmSyncLogs?Since", "Since", "sync-logs"),
            ("/Reports/CrmSyncErrors?Since", "Since", "sync-errors"),
        )
        for label, moment in UNREPRESENTABLE_MOMENTS.items()
    ],
    Bad("json-bad-page", "json", "GET", "/Tickets?PageNumber=0", None, 400, "PageNumber"),
    Bad("xml-bad-page-size", "xml", "GET", "/Tickets?PageSize=x", None, 400, "PageSize"),
    Bad("json-unknown-path", "json", "GET", "/Nope", None, 404),
    Bad("xml-method-not-allowed", "xml", "PATCH", "/Tickets/{ticket}", b"<Ticket/>", 405),
    Bad("json-delete-collection", "json", "DELETE", "/Tickets", None, 405),
    # Conflicts
    Bad("json-delete-used-type", "json", "DELETE", "/TicketTypes/1", None, 409, "still used"),
    Bad("xml-delete-used-status", "xml", "DELETE", "/TicketStatuses/1", None, 409, "still used"),
]


@pytest.fixture
async def prepared(client: httpx.AsyncClient) -> dict[str, Any]:
    """A type Bug (statuses New, Closed), a product with a version, custom fields, one ticket."""
    api = HelpdeskApi(client, "json")
    await api.setup_ticket_type("Bug", statuses=("New", "Closed"))
    product = await api.create("/Products", "Product", {"Name": "Widget"})
    await api.create(f"/Products/{product['ID']}/Versions", "Version", {"VersionNumber": "1"})
    for name, field_type in (("Count", "Number"), ("Due", "Date"), ("Urgent", "Boolean")):
        await api.create("/CustomFields", "CustomField", {"Name": name, "FieldType": field_type})
    await api.create(
        "/CustomFields",
        "CustomField",
        {"Name": "Severity", "FieldType": "PickList", "PickListValues": ["Low", "High"]},
    )
    await api.create("/ActionTypes", "ActionType", {"Name": "Comment"})
    ticket = await api.create("/Tickets", "Ticket", {**TICKET, "Severity": "Low", "Count": 1})
    return {"ticket": ticket["ID"]}


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_bad_request_answers_4xx_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Any,
    database_reset: DatabaseReset,
    prepared: dict[str, Any],
    case: Bad,
) -> None:
    before = await table_contents(db, database_reset.tables)
    headers = {"Content-Type": case.content_type} if case.body is not None else {}
    headers.update(case.headers)
    content: Any = _chunks(case.body) if case.chunked and case.body else case.body
    path = f"/api/{case.fmt}" + case.path.format(ticket=prepared["ticket"])

    response = await client.request(case.method, path, content=content, headers=headers)

    assert response.status_code == case.status, response.text[:500]
    if case.chunked:
        assert "content-length" not in response.request.headers
    expected_type = "application/json" if case.fmt == "json" else "application/xml"
    assert response.headers["content-type"].startswith(expected_type)
    error = parse_answer(response)["Error"]
    assert set(error) == {"Code", "Message"}
    assert error["Code"]
    assert error["Message"]
    assert case.message in error["Message"]
    assert "Traceback" not in response.text
    assert await table_contents(db, database_reset.tables) == before


async def test_every_case_is_4xx() -> None:
    assert all(400 <= case.status < 500 for case in CASES)
    assert len({case.id for case in CASES}) == len(CASES)
