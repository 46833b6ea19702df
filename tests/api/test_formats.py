"""The JSON/XML codec: pure tests, with property tests for round trips and arbitrary bytes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from xml.etree.ElementTree import fromstring

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.api.formats import Format, format_for_path, parse_body, render, singular, xml_name
from app.core.errors import ApiError, BadRequest, UnsupportedMediaType

JSON, XML = Format.JSON, Format.XML


class TestParse:
    def test_json_with_and_without_wrapper(self) -> None:
        assert parse_body(b'{"Ticket": {"Name": "a"}}', "application/json", JSON, "Ticket") == {
            "Name": "a"
        }
        assert parse_body(b'{"Name": "a"}', None, JSON, "Ticket") == {"Name": "a"}
        assert parse_body(b'{"ticket": {"Name": "a"}}', None, JSON, "Ticket") == {"Name": "a"}

    def test_json_keeps_types_and_lists(self) -> None:
        body = b'{"A": 1, "B": true, "C": null, "D": ["x", "y"], "E": 1.5}'
        assert parse_body(body, None, JSON, "T") == {
            "A": 1,
            "B": True,
            "C": None,
            "D": ["x", "y"],
            "E": 1.5,
        }

    def test_xml_elements_are_text_and_lists(self) -> None:
        body = b"<T><A>1</A><B/><C><Value> x </Value><Value>y</Value></C></T>"
        assert parse_body(body, "text/xml; charset=utf-8", XML, "T") == {
            "A": "1",
            "B": "",
            "C": ["x", "y"],
        }

    def test_empty_body_is_no_elements(self) -> None:
        assert parse_body(b"  \n", "application/json", JSON, "T") == {}
        assert parse_body(b"", None, XML, "T") == {}

    def test_byte_order_mark_is_allowed(self) -> None:
        assert parse_body(b"\xef\xbb\xbf<T><A>1</A></T>", None, XML, "T") == {"A": "1"}
        assert parse_body(b'\xef\xbb\xbf{"A": 1}', None, JSON, "T") == {"A": 1}

    @pytest.mark.parametrize(
        ("fmt", "content_type"),
        [
            (JSON, "application/vnd.api+json"),
            (JSON, "Application/JSON; charset=utf-8"),
            (XML, "application/atom+xml"),
            (XML, "text/xml"),
        ],
    )
    def test_accepted_content_types(self, fmt: Format, content_type: str) -> None:
        body = b'{"A": 1}' if fmt is JSON else b"<T><A>1</A></T>"
        assert parse_body(body, content_type, fmt, "T")["A"] in (1, "1")

    @pytest.mark.parametrize(
        ("fmt", "content_type"),
        [(JSON, "text/plain"), (JSON, "application/xml"), (XML, "application/json")],
    )
    def test_refused_content_types(self, fmt: Format, content_type: str) -> None:
        with pytest.raises(UnsupportedMediaType):
            parse_body(b"{}", content_type, fmt, "T")


class TestRender:
    def test_json(self) -> None:
        moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        data = {"Ticket": {"Name": "é", "When": moment, "Day": date(2024, 1, 2), "X": None}}
        assert json.loads(render(data, JSON)) == {
            "Ticket": {
                "Name": "é",
                "When": "2024-01-02T03:04:05+00:00",
                "Day": "2024-01-02",
                "X": None,
            }
        }

    def test_xml_record(self) -> None:
        rendered = render(
            {"Ticket": {"ID": 1, "Open": True, "Empty": None, "Tags": ["a", "b"], "A & B": "<x>"}},
            XML,
        )
        assert rendered.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        assert rendered.endswith(
            b"<Ticket><ID>1</ID><Open>True</Open><Empty /><Tags><Value>a</Value>"
            b"<Value>b</Value></Tags><A___B>&lt;x&gt;</A___B></Ticket>"
        )

    def test_xml_lists_name_their_items(self) -> None:
        assert b"<Tickets><Ticket><ID>1</ID></Ticket></Tickets>" in render(
            {"Tickets": [{"ID": 1}]}, XML
        )
        assert b"<Tickets />" in render({"Tickets": []}, XML)

    def test_xml_answers_stay_well_formed_with_control_characters(self) -> None:
        rendered = render({"T": {"A": "bell\x07 tab\t vt\x0b"}}, XML)
        assert fromstring(rendered).findtext("A") == "bell\ufffd tab\t vt\ufffd"

    @pytest.mark.parametrize(
        ("plural", "item"),
        [
            ("Tickets", "Ticket"),
            ("TicketStatuses", "TicketStatus"),
            ("Addresses", "Address"),
            ("Products", "Product"),
            ("EventDeliveries", "EventDelivery"),
            ("Dictionaries", "Dictionary"),
            ("History", "Item"),
        ],
    )
    def test_singular(self, plural: str, item: str) -> None:
        assert singular(plural) == item

    @pytest.mark.parametrize(
        ("name", "element"),
        [("Severity", "Severity"), ("Customer Ref", "Customer_Ref"), ("2nd", "_2nd")],
    )
    def test_xml_name(self, name: str, element: str) -> None:
        assert xml_name(name) == element

    def test_format_for_path(self) -> None:
        assert format_for_path("/api/xml/Tickets") is XML
        assert format_for_path("/api/xml") is XML
        assert format_for_path("/api/xmlish") is JSON
        assert format_for_path("/healthz") is JSON


NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True)
# Text XML can carry unchanged: no control characters (and no CR, which XML turns into LF).
TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="\ufffe\uffff",
    ),
    max_size=40,
).map(str.strip)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), TEXT, st.lists(TEXT, max_size=4)
)
RECORDS = st.dictionaries(NAMES, VALUES, max_size=8)


def _as_xml_text(value: Any) -> Any:
    if isinstance(value, list):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    return str(value)


class TestProperties:
    @given(record=RECORDS)
    @settings(max_examples=150, deadline=None)
    def test_json_round_trip(self, record: dict[str, Any]) -> None:
        assert parse_body(render({"Ticket": record}, JSON), None, JSON, "Ticket") == record

    @given(record=RECORDS)
    @settings(max_examples=150, deadline=None)
    def test_xml_round_trip(self, record: dict[str, Any]) -> None:
        parsed = parse_body(render({"Ticket": record}, XML), None, XML, "Ticket")
        # XML carries text: values come back as their text, an empty list as an empty element.
        expected = {
            key: _as_xml_text(value) if value != [] else "" for key, value in record.items()
        }
        assert parsed == expected

    @given(raw=st.binary(max_size=300), fmt=st.sampled_from(list(Format)))
    @settings(max_examples=300, deadline=None)
    def test_random_bytes_raise_only_api_errors(self, raw: bytes, fmt: Format) -> None:
        try:
            parse_body(raw, None, fmt, "Ticket")
        except ApiError:
            pass

    @given(
        text=st.one_of(
            st.text(max_size=200),
            st.builds(
                lambda tags, body: "".join(f"<{t}>" for t in tags) + body,
                st.lists(st.sampled_from(["Ticket", "Name", "a", "!DOCTYPE x", "?xml"])),
                st.text(max_size=50),
            ),
        ),
        fmt=st.sampled_from(list(Format)),
    )
    @settings(max_examples=300, deadline=None)
    def test_random_text_raises_only_api_errors(self, text: str, fmt: Format) -> None:
        try:
            result = parse_body(text.encode("utf-8", "surrogatepass"), None, fmt, "Ticket")
        except ApiError:
            return
        assert isinstance(result, dict)

    def test_bad_request_is_an_api_error(self) -> None:
        assert issubclass(BadRequest, ApiError)
