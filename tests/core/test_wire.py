"""The wire base of every body: PascalCase names with the contract's acronyms, element names
matched whatever their case, read-only elements refused, ids and date-times checked, and
validation errors in one readable sentence (app/core/wire.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from app.core.errors import BadRequest
from app.core.wire import (
    MAX_ID,
    ApiModel,
    Flag,
    IsoDateTime,
    RecordId,
    canonical_keys,
    describe_validation_error,
    pascal,
    secret_schema,
    validate_elements,
)


class Body(ApiModel):
    name: str | None = None
    ticket_type_id: RecordId | None = None
    since: IsoDateTime | None = None


@pytest.mark.parametrize(
    ("name", "element"),
    [
        ("name", "Name"),
        ("ticket_type_id", "TicketTypeID"),
        ("allowed_ticket_type_ids", "AllowedTicketTypeIDs"),
        ("jira_link_url", "JiraLinkURL"),
        ("webhook_url", "WebhookURL"),
        ("date_modified_since", "DateModifiedSince"),
        ("identity", "Identity"),
    ],
)
def test_pascal_names_with_the_contracts_acronyms(name: str, element: str) -> None:
    assert pascal(name) == element


class TestCanonicalKeys:
    def test_renamed_to_the_exact_element_whatever_the_case(self) -> None:
        given = {"NAME": "x", "tickettypeid": 3, "Other": 1}
        assert canonical_keys(Body, given) == {"Name": "x", "TicketTypeID": 3, "Other": 1}

    def test_a_read_only_element_is_refused_by_its_own_name(self) -> None:
        with pytest.raises(BadRequest) as refused:
            canonical_keys(
                Body, {"name": "x", "jirasyncstatus": "Linked"}, frozenset({"JiraSyncStatus"})
            )
        assert refused.value.message == "Element 'JiraSyncStatus' is read-only."


class TestValidateElements:
    def test_valid_elements_make_the_model(self) -> None:
        body = validate_elements(
            Body, {"name": " Bug ", "ticketTypeID": 7.0, "Since": "2026-11-23T10:00:00Z"}
        )
        assert body == Body(
            name="Bug", ticket_type_id=7, since=datetime(2026, 11, 23, 10, tzinfo=UTC)
        )

    @pytest.mark.parametrize(
        ("elements", "message"),
        [
            ({"Nmae": "x"}, "Unknown element 'Nmae'"),
            ({"TicketTypeID": 0}, "TicketTypeID: Input should be greater than or equal to 1"),
            ({"TicketTypeID": "7"}, "TicketTypeID: Value error, must be a number"),
            ({"TicketTypeID": True}, "TicketTypeID: Value error, must be a number"),
            (
                {"TicketTypeID": 7.5},
                "TicketTypeID: Input should be a valid integer, got a number with a fractional "
                "part",
            ),
            (
                {"TicketTypeID": MAX_ID + 1},
                f"TicketTypeID: Input should be less than or equal to {MAX_ID}",
            ),
            (
                {"Since": 1763892000},
                "Since: Value error, must be an ISO 8601 date-time, e.g. 2026-11-23T10:00:00Z",
            ),
            (
                {"Since": "1763892000"},
                "Since: Value error, must be an ISO 8601 date-time, e.g. 2026-11-23T10:00:00Z",
            ),
            (
                {"Nmae": "x", "TicketTypeID": -1},
                "TicketTypeID: Input should be greater than or equal to 1; Unknown element 'Nmae'",
            ),
        ],
    )
    def test_problems_are_one_sentence_each(self, elements: dict[str, Any], message: str) -> None:
        with pytest.raises(BadRequest) as refused:
            validate_elements(Body, elements)
        assert refused.value.message == message


def test_a_validation_error_without_details_still_says_something() -> None:
    class NoDetails:
        def errors(self) -> list[Any]:
            return []

    assert describe_validation_error(NoDetails()) == "Invalid request."


def test_body_and_query_are_not_part_of_the_location() -> None:
    with pytest.raises(ValidationError) as invalid:
        Body.model_validate({"TicketTypeID": "x"})
    errors = [{**error, "loc": ("body", *error["loc"])} for error in invalid.value.errors()]

    class FromFastApi:
        def errors(self) -> list[Any]:
            return errors

    assert describe_validation_error(FromFastApi()).startswith("TicketTypeID: ")


@pytest.mark.parametrize(
    ("text", "documented_valid"),
    [
        ("", True),  # clears the secret
        ("   ", True),  # stripped: clears it too
        ("abcdefgh", True),
        ("a      h", True),
        ("  abcdefgh  ", True),
        ("abcdefg", False),
        (" abcdefg ", False),  # 7 once stripped
        ("abc\x00defgh", False),
    ],
)
def test_a_secret_is_documented_as_empty_or_long_enough(text: str, documented_valid: bool) -> None:
    validator = jsonschema_rs.validator_for(secret_schema(8).json_schema)
    assert validator.is_valid(text) == documented_valid


class _Flag(ApiModel):
    flag: Flag | None = None


@pytest.mark.parametrize(("given", "read"), [(True, True), (False, False), (None, None)])
def test_a_flag_is_json_true_or_false(given: Any, read: bool | None) -> None:
    assert _Flag.model_validate({"Flag": given}).flag is read


@pytest.mark.parametrize("given", [0, 1, "1", "yes", "", "true", 0.0, [True]])
def test_anything_else_is_no_flag(given: Any) -> None:
    """XML's texts `true`/`false` are read as booleans before (`app/api/xml_texts.py`)."""
    with pytest.raises(BadRequest, match="Flag: Input should be a valid boolean"):
        validate_elements(_Flag, {"Flag": given})
