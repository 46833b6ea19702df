"""XML element texts: what the reader accepts is exactly what the documented schema calls valid."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel

from app.api.xml_texts import read_texts, text_schema
from app.core.errors import BadRequest
from app.core.wire import ApiModel, RecordId

ID_DEFINITION = {"type": "integer", "minimum": 1, "maximum": 2_147_483_647}
BOOLEAN_DEFINITION = {"type": "boolean"}


class Sample(ApiModel):
    record_id: RecordId | None = None
    flag: bool | None = None
    names: list[str] | None = None
    ids: list[RecordId] | None = None
    name: str | None = None


def _reads(model: type[BaseModel], element: str, text: Any) -> Any:
    try:
        return read_texts(model, {element: text})[element]
    except BadRequest:
        return BadRequest


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("1", 1),
        ("  42 ", 42),
        ("007", 7),
        ("2147483647", 2_147_483_647),
        ("1999999999", 1_999_999_999),
        ("2147483648", BadRequest),
        ("9999999999", BadRequest),
        ("0", BadRequest),
        ("-1", BadRequest),
        ("+1", BadRequest),
        ("7.0", BadRequest),
        ("1_000", BadRequest),
        ("٣", BadRequest),
        ("1e3", BadRequest),
        ("", None),
    ],
)
def test_ids(text: str, read: Any) -> None:
    assert _reads(Sample, "RecordID", text) == read
    valid = jsonschema_rs.validator_for(text_schema(ID_DEFINITION)).is_valid(text)
    assert valid == (read not in (BadRequest, None))


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("true", True),
        ("False", False),
        (" TRUE ", True),
        ("yes", BadRequest),
        ("1", BadRequest),
        ("t", BadRequest),
        ("truth", BadRequest),
        ("", None),
    ],
)
def test_booleans(text: str, read: Any) -> None:
    assert _reads(Sample, "flag", text) == read
    valid = jsonschema_rs.validator_for(text_schema(BOOLEAN_DEFINITION)).is_valid(text)
    assert valid == (read not in (BadRequest, None))


def test_a_nullable_element_may_be_empty_in_the_schema_too() -> None:
    nullable = {"anyOf": [ID_DEFINITION, {"type": "null"}]}
    assert jsonschema_rs.validator_for(text_schema(nullable)).is_valid("")
    assert not jsonschema_rs.validator_for(text_schema(ID_DEFINITION)).is_valid("")


@pytest.mark.parametrize(
    ("element", "value", "read"),
    [
        ("names", "", []),
        ("names", " ", []),
        ("names", "a", BadRequest),  # a text where one <Value> per item belongs
        ("names", ["a", "b"], ["a", "b"]),
        ("ids", ["1", " 2 "], [1, 2]),
        ("ids", ["1", "x"], BadRequest),
        ("name", "", None),
        ("name", " a ", " a "),  # the model strips texts
        ("unknown", "", None),  # left for the model to refuse
    ],
)
def test_lists_and_texts(element: str, value: Any, read: Any) -> None:
    assert _reads(Sample, element, value) == read


def test_element_names_are_matched_regardless_of_case() -> None:
    assert read_texts(Sample, {"recordid": "5", "FLAG": "true"}) == {"recordid": 5, "FLAG": True}


def test_an_empty_item_of_a_list_of_texts_is_an_empty_text() -> None:
    assert read_texts(Sample, {"Names": ["a", ""]}) == {"Names": ["a", ""]}
