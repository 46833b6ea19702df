"""Talk to the helpdesk API in either format with one test body: dicts in, dicts out.

`HelpdeskApi(client, "xml").post("/TicketTypes", "TicketType", {"Name": "Bug"})` sends
`<TicketType><Name>Bug</Name></TicketType>` to `/api/xml/TicketTypes` and parses the XML answer
back into `{"TicketType": {"ID": 1, "Name": "Bug"}}`, the same dict the JSON answer gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, SubElement, fromstring, tostring

import httpx

FORMATS = ("json", "xml")
# Roots of list answers (their items' names do not matter here).
LIST_ROOTS = frozenset(
    {
        "TicketTypes",
        "TicketStatuses",
        "ActionTypes",
        "Products",
        "Versions",
        "CustomFields",
        "Tickets",
        "Actions",
        "History",
        "SyncJobs",
    }
)
# Record elements that hold a list of values (`<PickListValues><Value>…</Value>…`).
LIST_ELEMENTS = frozenset({"PickListValues", "AllowedTicketTypeIDs", "Rights"})


def to_xml(wrapper: str, data: dict[str, Any]) -> bytes:
    root = Element(wrapper)
    for key, value in data.items():
        child = SubElement(root, key)
        if isinstance(value, list):
            for item in value:
                SubElement(child, "Value").text = _text(item)
        else:
            child.text = _text(value)
    return tostring(root, encoding="utf-8")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def from_xml(body: bytes) -> dict[str, Any]:
    """`{root: record}` or `{root: [records]}`; IDs as ints, True/False as bools, empty = None."""
    root = fromstring(body)
    if root.tag in LIST_ROOTS:
        return {root.tag: [_record(item) for item in root]}
    return {root.tag: _record(root)}


def _record(element: Element) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for child in element:
        if child.tag in LIST_ELEMENTS:
            record[child.tag] = [_scalar(child.tag, item.text) for item in child]
        else:
            record[child.tag] = _scalar(child.tag, child.text)
    return record


def _scalar(name: str, text: str | None) -> Any:
    if text is None:
        return None
    if text in ("True", "False"):
        return text == "True"
    if (name.endswith("ID") or name == "TicketNumber") and text.lstrip("-").isdigit():
        return int(text)
    return text


@dataclass
class Answer:
    response: httpx.Response
    data: dict[str, Any]

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.data["Error"]
        return error

    def one(self, name: str) -> dict[str, Any]:
        assert self.status < 300, (self.status, self.data)
        record: dict[str, Any] = self.data[name]
        return record

    def many(self, name: str) -> list[dict[str, Any]]:
        assert self.status < 300, (self.status, self.data)
        records: list[dict[str, Any]] = self.data[name]
        return records


def parse_answer(response: httpx.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    if response.headers.get("content-type", "").startswith("application/xml"):
        assert response.content.startswith(b"<?xml"), response.content[:80]
        return from_xml(response.content)
    data: dict[str, Any] = json.loads(response.content)
    return data


class HelpdeskApi:
    """One format's view of `/api/<format>/…` through an httpx client."""

    def __init__(self, client: httpx.AsyncClient, fmt: str) -> None:
        self.client = client
        self.fmt = fmt
        self.base = f"/api/{fmt}"

    def encode(self, wrapper: str, data: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        if self.fmt == "xml":
            return to_xml(wrapper, data), {"Content-Type": "application/xml"}
        return json.dumps({wrapper: data}).encode(), {"Content-Type": "application/json"}

    def value(self, typed: Any) -> Any:
        """What a custom field's typed value looks like in this format's parsed answer."""
        if self.fmt == "json" or typed is None:
            return typed
        return _scalar("", _text(typed) if not isinstance(typed, bool) else str(typed))

    async def request(
        self,
        method: str,
        path: str,
        wrapper: str | None = None,
        data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Answer:
        if wrapper is not None:
            content, headers = self.encode(wrapper, data or {})
            kwargs["content"] = content
            kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
        response = await self.client.request(method, self.base + path, **kwargs)
        return Answer(response, parse_answer(response))

    async def get(self, path: str, **kwargs: Any) -> Answer:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, wrapper: str, data: dict[str, Any], **kw: Any) -> Answer:
        return await self.request("POST", path, wrapper, data, **kw)

    async def put(self, path: str, wrapper: str, data: dict[str, Any], **kw: Any) -> Answer:
        return await self.request("PUT", path, wrapper, data, **kw)

    async def delete(self, path: str) -> Answer:
        return await self.request("DELETE", path)

    async def create(self, path: str, wrapper: str, data: dict[str, Any]) -> dict[str, Any]:
        """POST and return the created record (asserting a 201)."""
        answer = await self.post(path, wrapper, data)
        assert answer.status == 201, (answer.status, answer.data)
        return answer.one(wrapper)

    async def setup_ticket_type(
        self, name: str = "Bug", statuses: tuple[str, ...] = ("New", "Open", "Closed")
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A ticket type with statuses (the first is the default; one named Closed is closed)."""
        ticket_type = await self.create("/TicketTypes", "TicketType", {"Name": name})
        made = [
            await self.create(
                "/TicketStatuses",
                "TicketStatus",
                {
                    "Name": status,
                    "TicketTypeID": ticket_type["ID"],
                    "IsClosed": status == "Closed",
                },
            )
            for status in statuses
        ]
        return ticket_type, made
