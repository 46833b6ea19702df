"""The pure parts: name normalisation, field resolution, value conversion, parameters, rights."""

from __future__ import annotations

import pytest

from app.core.errors import BadRequest
from app.crm.models import CrmFieldType
from app.crm.naming import compact, field_key, normalized
from app.crm.params import Params, plan_assignments
from app.crm.rights import canonical_right, may_run
from app.crm.schema import FieldSpec, TableSchema, resolve_field
from app.crm.values import FieldValueError, convert, parse_date, parse_number

INDUSTRY = FieldSpec(
    2,
    "org_industry",
    "Industry",
    CrmFieldType.MULTI_DICTIONARY,
    dictionary="Industries",
    choices={"development": "Development", "training": "Training"},
)
CLIENTS = TableSchema(
    1,
    "CLIENTS",
    "Companies",
    "clients",
    (
        FieldSpec(1, "org_name", "Company name", CrmFieldType.TEXT, is_name=True),
        INDUSTRY,
        FieldSpec(3, "contact_company", "Company", CrmFieldType.COMPANY),
    ),
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Сompany name", "company name"),  # Cyrillic С
        ("  COMPANY   Name ", "company name"),
        ("ｃｏｍｐａｎｙ", "company"),  # full-width (NFKC)
        ("Straße", "strasse"),
    ],
)
def test_normalized(given: str, expected: str) -> None:
    assert normalized(given) == expected


def test_compact_and_field_key() -> None:
    assert compact("Ted Johnson") == compact("TedJohnson")
    assert field_key("Product Name") == field_key("product_name")


@pytest.mark.parametrize(
    ("parameter", "code", "view"),
    [
        ("clients-org_name", "org_name", False),
        ("view-clients-org_industry", "org_industry", True),
        ("org_name", "org_name", False),
        ("Сompany name", "org_name", False),
        ("industry", "org_industry", False),
        ("Company", "contact_company", False),
    ],
)
def test_resolve_field(parameter: str, code: str, view: bool) -> None:
    ref = resolve_field(CLIENTS, parameter)
    assert ref is not None
    assert (ref.spec.code, ref.view) == (code, view)


@pytest.mark.parametrize("parameter", ["clients-nope", "view-Company name", "products-org_name"])
def test_resolve_unknown_field(parameter: str) -> None:
    assert resolve_field(CLIENTS, parameter) is None


def test_display_value_wins_for_references_raw_for_text() -> None:
    planned = plan_assignments(
        CLIENTS,
        [
            ("clients-contact_company", "5"),
            ("view-clients-contact_company", "Adobe"),
            ("clients-org_name", "raw"),
            ("Company name", "by name"),
        ],
    )
    assert planned["contact_company"].text == "Adobe"
    assert planned["org_name"].text == "raw"


def test_unknown_field_names_the_parameter() -> None:
    with pytest.raises(BadRequest, match="clients-org_colour"):
        plan_assignments(CLIENTS, [("clients-org_colour", "red")])


@pytest.mark.parametrize(
    ("text", "data"),
    [("Development,Training", ["Development", "Training"]), ("training, ,training", ["Training"])],
)
def test_multi_dictionary_values(text: str, data: list[str]) -> None:
    converted = convert(INDUSTRY, text)
    assert converted is not None
    assert converted.data == data


def test_unknown_dictionary_value() -> None:
    with pytest.raises(FieldValueError, match="Industries"):
        convert(INDUSTRY, "Development,Cooking")


@pytest.mark.parametrize(
    ("text", "number"), [("10", "10"), ("12.50", "12.5"), ("1 000,5", "1000.5"), ("1E3", "1000")]
)
def test_numbers(text: str, number: str) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize("text", ["ten", "NaN", "Infinity", "1e400"])
def test_not_numbers(text: str) -> None:
    with pytest.raises(FieldValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-02-29", "2024-02-29"),
        ("29.02.2024", "2024-02-29"),
        ("2024-02-29T10:00", "2024-02-29"),
    ],
)
def test_dates(text: str, day: str) -> None:
    assert parse_date(text) == day


def test_pairs_in_order_and_orphan_values() -> None:
    params = Params(
        [("crm_param_2", "B"), ("crm_param_1", "A"), ("crm_param_1_value", "a"), ("x", "y")]
    )
    assert params.pairs() == [("A", "a", "crm_param_1"), ("B", "", "crm_param_2")]
    with pytest.raises(BadRequest, match="crm_param_3"):
        Params([("crm_param_3_value", "v")]).pairs()


def test_page_bounds() -> None:
    assert Params([("maxResults", "100000")]).page() == (0, 1000)
    with pytest.raises(BadRequest, match="startAt"):
        Params([("startAt", "-1")]).page()


def test_rights_by_name_and_alias() -> None:
    assert canonical_right("search crm objects by parameters") == "Search CRM objects"
    assert may_run("addcontact", ["Add contact"])
    assert not may_run("addcontact", ["Add companies"])
