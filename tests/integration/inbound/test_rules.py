"""Pure decisions of Jira → tickets, as tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.integration.inbound.rules import (
    ProductOption,
    StatusOption,
    changes_from_issue,
    is_integration_user,
    is_stale,
    jira_value,
    target_product,
    target_status,
    target_ticket_type,
)
from app.jira.deliveries import Author

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 23, 10, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("updated", "changelog", "seen_updated", "seen_changelog", "stale"),
    [
        (T1, 5, T0, 9, False),  # newer time wins whatever the changelog id
        (T0, 9, T1, 5, True),  # older time
        (T0, 6, T0, 5, False),  # same time: higher changelog id
        (T0, 5, T0, 5, True),  # the same change again
        (T0, 4, T0, 5, True),
        (T0, None, T0, 5, False),  # a fetched issue at the same time: re-apply (harmless)
        (T0, 5, None, None, False),  # nothing seen yet
        (None, 3, None, 5, True),  # no time: changelog ids decide
        (None, None, T0, 5, False),
        (T0.replace(tzinfo=None), 1, T1, None, True),  # naive values are UTC
    ],
)
def test_is_stale(
    updated: datetime | None,
    changelog: int | None,
    seen_updated: datetime | None,
    seen_changelog: int | None,
    stale: bool,
) -> None:
    assert is_stale(updated, changelog, seen_updated, seen_changelog) is stale


@pytest.mark.parametrize(
    ("author", "identities", "ours"),
    [
        (Author("Sync", name="svc"), ["SVC"], True),
        (Author("Sync", email="sync@example.com"), ["sync@example.com"], True),
        (Author("Sync", account_id="5c5f1"), ["x@example.com", "5c5f1"], True),
        (Author("Jane", name="jane", account_id="5c5f2"), ["svc", "5c5f1"], False),
        (Author("Nobody"), ["", "svc"], False),
    ],
)
def test_is_integration_user(author: Author, identities: list[str], ours: bool) -> None:
    assert is_integration_user(author, identities) is ours


OPTIONS = [StatusOption(1, "Open", True), StatusOption(2, "In Progress", False)]


@pytest.mark.parametrize(
    ("options", "jira", "expected"),
    [
        (OPTIONS, "in progress", 2),
        (OPTIONS, "IN PROGRESS", 2),
        (OPTIONS, "Done", 1),  # no such name: the default
        (OPTIONS, None, 1),
        ([StatusOption(3, "X", False)], "Done", None),  # no default at all
    ],
)
def test_target_status(options: list[StatusOption], jira: str | None, expected: int | None) -> None:
    assert target_status(options, jira) == expected


@pytest.mark.parametrize(
    ("mappings", "jira", "expected"),
    [
        ({"Story": "Feature"}, "story", 3),  # the mapping first
        ({"Story": "Feature"}, "Bug", 1),  # else the same name
        ({}, "bug", 1),
        ({}, "Epic", None),
        ({"Epic": "Gone"}, "Epic", None),  # mapped to a type that does not exist
    ],
)
def test_target_ticket_type(mappings: dict[str, str], jira: str, expected: int | None) -> None:
    assert target_ticket_type(mappings, {1: "Bug", 2: "Task", 3: "Feature"}, jira) == expected


PRODUCTS = [
    ProductOption(1, "Demo", "DEMO", None),
    ProductOption(2, "Demo on B", "DEMO", 2),
    ProductOption(3, "Operations", None, None),
]


@pytest.mark.parametrize(
    ("instance", "key", "name", "expected"),
    [
        (2, "demo", None, 2),  # key and instance
        (1, "DEMO", None, 1),  # key, no instance on the product
        (1, "OPS", "operations", 3),  # by name
        (1, "OPS", "Elsewhere", None),
    ],
)
def test_target_product(instance: int, key: str, name: str | None, expected: int | None) -> None:
    assert target_product(PRODUCTS, instance, key, name) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"value": "High", "id": "1"}, "High"),
        ({"value": "EU", "child": {"value": "Berlin"}}, "EU - Berlin"),
        ({"name": "Major"}, "Major"),
        ({"displayName": "Jane"}, "Jane"),
        ([{"value": "a"}, {"value": "b"}], ["a", "b"]),
        ([], None),
        (5.0, 5),
        (5.5, 5.5),
        ("2026-11-23", "2026-11-23"),
        (None, None),
    ],
)
def test_jira_value(value: Any, expected: Any) -> None:
    assert jira_value(value) == expected


def test_changes_from_issue_only_what_differs() -> None:
    fields = {
        "status": {"name": "Done"},
        "issuetype": {"name": "Bug"},
        "project": {"key": "NEW", "name": "New"},
        "customfield_1": {"value": "High"},
    }
    changes = changes_from_issue(
        "NEW-1",
        fields,
        known_key="OLD-1",
        known_status="done",
        known_type="Task",
        field_names={"customfield_1": "Severity"},
        mapped=["severity", "Unknown"],
    )
    assert changes.status_to is None
    assert changes.issue_type == "Bug"
    assert changes.move is not None
    assert changes.move.new_key == "NEW-1"
    assert changes.fields == {"severity": ("Severity", {"value": "High"})}
