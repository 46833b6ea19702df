"""Pure decisions of Jira → tickets, as tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.integration.inbound.rules import (
    Author,
    EventKind,
    Privacy,
    ProductOption,
    StatusOption,
    changes_from_issue,
    comment_privacy,
    is_integration_user,
    is_stale,
    issue_id_from_comment_url,
    jira_value,
    parse_delivery,
    parse_jira_time,
    target_product,
    target_status,
    target_ticket_type,
)
from tests.support.inbound import (
    cloud_comment_created,
    issue_updated,
    item,
    server_comment_created,
    server_issue_commented,
    simple_event,
)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 23, 10, 1, tzinfo=UTC)


class TestParseDelivery:
    @pytest.mark.parametrize(
        ("payload", "kind", "issue_id"),
        [
            (simple_event("jira:issue_created", "1", "A-1"), EventKind.IGNORED, "1"),
            (simple_event("jira:issue_deleted", "1", "A-1"), EventKind.ISSUE_DELETED, "1"),
            (simple_event("comment_updated", "1", "A-1"), EventKind.COMMENT_UPDATED, "1"),
            (simple_event("comment_deleted", "1", "A-1"), EventKind.IGNORED, "1"),
            (simple_event("jira:worklog_updated", "1", "A-1"), EventKind.IGNORED, "1"),
            (cloud_comment_created("1", "A-1", "5"), EventKind.COMMENT_CREATED, "1"),
            (server_comment_created("10013", "5"), EventKind.COMMENT_CREATED, "10013"),
            (server_issue_commented("1", "A-1", "5"), EventKind.ISSUE_UPDATED, "1"),
            (
                server_issue_commented("1", "A-1", "5", event_type=None),
                EventKind.ISSUE_UPDATED,
                "1",
            ),
            (
                server_issue_commented("1", "A-1", "5", event_type="issue_comment_edited"),
                EventKind.COMMENT_UPDATED,
                "1",
            ),
            (
                server_issue_commented("1", "A-1", "5", event_type=None, edited=True),
                EventKind.COMMENT_UPDATED,
                "1",
            ),
            (issue_updated("1", "A-1", []), EventKind.IGNORED, "1"),
            (issue_updated("1", "A-1", [item("status", "a", "b")]), EventKind.ISSUE_UPDATED, "1"),
        ],
    )
    def test_kinds(self, payload: dict[str, Any], kind: EventKind, issue_id: str) -> None:
        parsed = parse_delivery(payload)
        assert (parsed.kind, parsed.issue_id) == (kind, issue_id)

    def test_changelog_items(self) -> None:
        payload = issue_updated(
            "1",
            "NEW-3",
            [
                item("status", "To Do", "Done"),
                item("issuetype", "Task", "Bug"),
                item("project", "Old", "New Project"),
                item("Key", "OLD-9", "NEW-3"),
                item("Severity", None, "High", field_id="customfield_1"),
                item("numfield", "1", "12", cloud=False),
            ],
            changelog_id=77,
            updated="2026-11-23T11:00:00.000+0100",
            project=("NEW", "New Project"),
            extra={"customfield_1": {"value": "High"}},
        )
        parsed = parse_delivery(payload)
        changes = parsed.changes
        assert (changes.status_from, changes.status_to, changes.issue_type) == (
            "To Do",
            "Done",
            "Bug",
        )
        assert changes.move is not None
        assert (changes.move.old_key, changes.move.new_key, changes.move.project_key) == (
            "OLD-9",
            "NEW-3",
            "NEW",
        )
        assert changes.fields["severity"] == ("Severity", {"value": "High"})
        assert changes.fields["numfield"] == ("numfield", "12")
        assert (parsed.changelog_id, parsed.updated) == (77, T0)

    @pytest.mark.parametrize(
        ("comment", "reliable", "privacy"),
        [
            ({"body": "x", "author": {}}, True, Privacy.PUBLIC),
            ({"body": "x", "author": {}, "visibility": {"type": "role"}}, True, Privacy.PRIVATE),
            ({"body": "x", "author": {}, "jsdPublic": False}, True, Privacy.PRIVATE),
            ({"body": "x", "author": {}, "jsdPublic": True}, True, Privacy.PUBLIC),
            ({"author": {}}, True, Privacy.UNKNOWN),
            ({"body": "x", "author": {}}, False, Privacy.UNKNOWN),
            ({"body": "x", "visibility": {"type": "group"}}, False, Privacy.PRIVATE),
        ],
    )
    def test_comment_privacy(
        self, comment: dict[str, Any], reliable: bool, privacy: Privacy
    ) -> None:
        assert comment_privacy(comment, payload_reliable=reliable) is privacy

    @pytest.mark.parametrize(
        ("url", "issue_id"),
        [
            ("http://jira:8080/rest/api/2/issue/10013/comment/10082", "10013"),
            ("https://x.atlassian.net/rest/api/2/issue/10040/comment/1", "10040"),
            ("https://x/rest/api/2/user?x=1", None),
            (None, None),
        ],
    )
    def test_issue_id_from_comment_url(self, url: str | None, issue_id: str | None) -> None:
        assert issue_id_from_comment_url(url) == issue_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-02-15T19:07:51.756-0800", datetime(2019, 2, 16, 3, 7, 51, 756000, tzinfo=UTC)),
        ("2019-06-04T00:15:17.234+0000", datetime(2019, 6, 4, 0, 15, 17, 234000, tzinfo=UTC)),
        ("2019-06-04T00:15:17Z", datetime(2019, 6, 4, 0, 15, 17, tzinfo=UTC)),
        (1550286678321, datetime(2019, 2, 16, 3, 11, 18, 321000, tzinfo=UTC)),
        ("nonsense", None),
        (None, None),
    ],
)
def test_parse_jira_time(value: Any, expected: datetime | None) -> None:
    assert parse_jira_time(value) == expected


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
