"""Jira webhook bodies read into `ParsedDelivery`: real bodies, tables of shapes, hostile input."""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app.jira.deliveries import EventKind, ParsedDelivery, Privacy
from app.jira.webhooks import (
    UnreadableWebhook,
    comment_privacy,
    issue_id_from_comment_url,
    parse_delivery,
    parse_jira_time,
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
# Real Cloud and Server bodies (see its README.md); not part of the repository.
# Real Jira bodies, read from the project's shared folder beside this checkout (not copied in).
SAMPLES = Path(
    os.environ.get(
        "JIRA_WEBHOOK_SAMPLES",
        Path(__file__).resolve().parents[3] / "shared" / "jira-webhook-samples",
    )
)
HUGE = 10**4400  # more digits than `int` turns into text
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
PARSED = TypeAdapter(ParsedDelivery)


INTERNAL = [{"key": "sd.public.comment", "value": {"internal": True}}]
PUBLIC = [{"key": "sd.public.comment", "value": {"internal": False}}]


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
            ({"body": "x", "author": {}}, True, Privacy.UNKNOWN),  # a Server body: ask Jira
            ({"body": "x", "author": {}, "visibility": {"type": "role"}}, True, Privacy.PRIVATE),
            ({"body": "x", "author": {}, "jsdPublic": False}, True, Privacy.PRIVATE),
            ({"body": "x", "author": {}, "jsdPublic": True}, True, Privacy.PUBLIC),
            ({"body": "x", "author": {}, "properties": INTERNAL}, True, Privacy.PRIVATE),
            ({"body": "x", "author": {}, "properties": PUBLIC}, True, Privacy.PUBLIC),
            (
                {"body": "x", "author": {}, "jsdPublic": True, "properties": INTERNAL},
                True,
                Privacy.PRIVATE,
            ),
            ({"author": {}, "jsdPublic": True}, True, Privacy.UNKNOWN),
            ({"body": "x", "author": {}, "jsdPublic": True}, False, Privacy.UNKNOWN),
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
    "value",
    [
        pytest.param("9999-12-31T23:59:59.000-2359", id="past year 9999 in UTC"),
        pytest.param("0001-01-01T00:00:00.000+2359", id="before year 1 in UTC"),
        pytest.param(HUGE, id="a 4,400-digit epoch"),
        pytest.param(float("inf"), id="infinity"),
        pytest.param(float("nan"), id="not a number"),
        pytest.param(10**20, id="past year 9999 as epoch ms"),
        pytest.param("2019-06-04T00:15:17\ud800", id="lone surrogate"),
        pytest.param(["2019-06-04T00:15:17Z"], id="a list"),
    ],
)
def test_anything_but_a_time_datetime_holds_is_none(value: Any) -> None:
    assert parse_jira_time(value) is None


# -- real bodies ---------------------------------------------------------------------------------


def sample(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SAMPLES / f"webhook-{name}.json").read_text())
    return body


def changes_of(parsed: ParsedDelivery) -> dict[str, Any]:
    """The changes that are there, in a form a table can spell."""
    changes = parsed.changes
    found = {
        "status": (changes.status_from, changes.status_to) if changes.status_to else None,
        "issue_type": changes.issue_type,
        "move": changes.move,
        "fields": sorted(changes.fields),
    }
    return {name: value for name, value in found.items() if value}


needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no {SAMPLES}")


@needs_samples
class TestRealBodies:
    @pytest.mark.parametrize(
        "path", sorted(SAMPLES.glob("*.json")), ids=lambda path: path.stem.removeprefix("webhook-")
    )
    def test_every_body_is_read_and_names_its_issue(self, path: Path) -> None:
        parsed = parse_delivery(json.loads(path.read_text()))
        assert parsed.event
        assert parsed.issue_id is not None
        assert PARSED.validate_json(PARSED.dump_json(parsed)) == parsed

    @pytest.mark.parametrize(
        ("name", "kind", "issue_id", "comment_id", "changes"),
        [
            ("cloud-comment-created", EventKind.COMMENT_CREATED, "10040", "10019", {}),
            ("cloud-comment-updated", EventKind.COMMENT_UPDATED, "10040", None, {}),
            ("cloud-comment-deleted", EventKind.IGNORED, "10357", None, {}),
            ("issue-created", EventKind.IGNORED, "10040", None, {}),
            ("issue-deleted", EventKind.ISSUE_DELETED, "10303", None, {}),
            ("issue-assigned-empty-changelog", EventKind.IGNORED, "10001", None, {}),
            (
                "cloud-issue-updated-custom-field",
                EventKind.ISSUE_UPDATED,
                "10368",
                None,
                {"fields": ["mjk - number field"]},
            ),
            (
                "issue-updated-reopened",
                EventKind.ISSUE_UPDATED,
                "10040",
                None,
                {"status": ("Done", "To Do"), "fields": ["resolution"]},
            ),
            (
                "issue-updated-issue-type",
                EventKind.ISSUE_UPDATED,
                "10040",
                None,
                {"issue_type": "Bug"},
            ),
            (
                "issue-updated-multiple-values",
                EventKind.ISSUE_UPDATED,
                "10040",
                None,
                {"fields": ["assignee", "fix version", "qa steps"]},
            ),
            ("server-comment-created", EventKind.COMMENT_CREATED, "10013", "10082", {}),
            ("server-issue-updated-commented-1", EventKind.ISSUE_UPDATED, "10013", "10082", {}),
            (
                "server-issue-updated-comment-edited",
                EventKind.COMMENT_UPDATED,
                "10013",
                None,
                {},
            ),
            ("server-issue-updated-comment-deleted", EventKind.IGNORED, "10013", None, {}),
            (
                "server-issue-updated-closed",
                EventKind.ISSUE_UPDATED,
                "10300",
                None,
                {"status": ("Resolved", "Closed")},
            ),
            (
                "server-old-issue-updated-no-event-type-comment-edited",
                EventKind.COMMENT_UPDATED,
                "10013",
                None,
                {},
            ),
        ],
    )
    def test_what_a_body_means(
        self,
        name: str,
        kind: EventKind,
        issue_id: str,
        comment_id: str | None,
        changes: dict[str, Any],
    ) -> None:
        parsed = parse_delivery(sample(name))
        assert (parsed.kind, parsed.issue_id) == (kind, issue_id)
        assert (parsed.comment.id if parsed.comment else None) == comment_id
        assert changes_of(parsed) == changes

    @pytest.mark.parametrize(
        ("name", "privacy"),
        [
            ("cloud-comment-created", Privacy.PUBLIC),  # jsdPublic: true
            # Server bodies never tell an internal Service Management note: ask Jira
            ("server-issue-updated-commented-1", Privacy.UNKNOWN),
            ("server-old-issue-updated-no-event-type-commented", Privacy.UNKNOWN),
        ],
    )
    def test_comment_privacy(self, name: str, privacy: Privacy) -> None:
        comment = parse_delivery(sample(name)).comment
        assert comment is not None
        assert comment.privacy is privacy

    def test_changelog_id_and_updated(self) -> None:
        parsed = parse_delivery(sample("server-issue-updated-closed"))
        assert parsed.changelog_id == 10511
        assert parsed.updated == datetime(2019, 8, 14, 3, 7, 58, 354000, tzinfo=UTC)


# -- hostile bodies ------------------------------------------------------------------------------


def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the value at a dotted path (list indexes as numbers) replaced."""
    copied = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = copied
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return copied


UPDATED = issue_updated(
    "10040",
    "A-1",
    [item("status", "To Do", "Done"), item("Severity", None, "High", field_id="customfield_1")],
)
COMMENTED = server_issue_commented("10013", "A-1", "10082")


class TestUnreadableBodies:
    @pytest.mark.parametrize(
        ("payload", "where"),
        [
            pytest.param([], "the body", id="a list, not an object"),
            pytest.param(
                changed(COMMENTED, "issue_event_type_name", ["issue_commented"]),
                "issue_event_type_name",
                id="event type name as a list",
            ),
            pytest.param(changed(UPDATED, "webhookEvent", 5), "webhookEvent", id="event number"),
            pytest.param(changed(UPDATED, "issue", []), "issue", id="issue as a list"),
            pytest.param(changed(COMMENTED, "comment", "hi"), "comment", id="comment as text"),
            pytest.param(
                changed(UPDATED, "changelog.items", {"0": item("status", "a", "b")}),
                "changelog.items",
                id="changelog items as an object",
            ),
            pytest.param(
                changed(UPDATED, "changelog.items.0", "status"),
                "changelog.items.0",
                id="a changelog item as text",
            ),
            pytest.param(changed(UPDATED, "issue.fields", []), "issue.fields", id="fields list"),
            pytest.param(
                changed(COMMENTED, "comment.author", "jdoe"), "comment.author", id="author text"
            ),
            pytest.param(changed(UPDATED, "issue.id", HUGE), "issue.id", id="4,400-digit id"),
            pytest.param(changed(UPDATED, "issue.id", 2**63), "issue.id", id="id beyond 64 bits"),
            pytest.param(changed(UPDATED, "issue.id", 10040.0), "issue.id", id="id as a float"),
            pytest.param(changed(UPDATED, "issue.id", True), "issue.id", id="id as a boolean"),
            pytest.param(changed(UPDATED, "issue.id", "100\x0040"), "issue.id", id="NUL in id"),
            pytest.param(
                changed(UPDATED, "issue.id", "10040\ud800"), "issue.id", id="surrogate in id"
            ),
            pytest.param(changed(UPDATED, "issue.key", "A-1\x00"), "issue.key", id="NUL in key"),
            pytest.param(changed(UPDATED, "issue.key", 1), "issue.key", id="key as a number"),
            pytest.param(
                changed(COMMENTED, "comment.id", HUGE), "comment.id", id="4,400-digit comment id"
            ),
            pytest.param(
                changed(COMMENTED, "comment.id", "\udfff"),
                "comment.id",
                id="surrogate in comment id",
            ),
            pytest.param(
                changed(UPDATED, "webhookEvent", "jira:issue_updated\x00"),
                "webhookEvent",
                id="NUL in event",
            ),
        ],
    )
    def test_unreadable_names_where(self, payload: Any, where: str) -> None:
        with pytest.raises(UnreadableWebhook) as raised:
            parse_delivery(payload)
        assert raised.value.reason.startswith(f"{where}: ")

    def test_a_comment_object_of_the_wrong_shape_has_no_privacy(self) -> None:
        with pytest.raises(UnreadableWebhook, match="author"):
            comment_privacy({"body": "x", "author": "jdoe"})


class TestOddLeaves:
    """What Jira's bodies may vary on is read leniently: the odd leaf is lost, not the body."""

    @pytest.mark.parametrize(
        ("payload", "attribute", "expected"),
        [
            pytest.param(
                changed(UPDATED, "changelog.items.0.fieldId", 5),
                "changes.status_to",
                "Done",
                id="fieldId as a number: the field name still tells",
            ),
            pytest.param(
                changed(UPDATED, "changelog.items.1.fieldId", 5),
                "changes.fields",
                {"severity": ("Severity", "High")},
                id="fieldId as a number: the value is the toString",
            ),
            pytest.param(
                changed(UPDATED, "issue.fields.updated", "9999-12-31T23:59:59.000-2359"),
                "updated",
                None,
                id="updated beyond datetime once in UTC",
            ),
            pytest.param(
                changed(UPDATED, "issue.fields.updated", HUGE),
                "updated",
                None,
                id="updated as a 4,400-digit epoch",
            ),
            pytest.param(
                changed(UPDATED, "changelog.id", HUGE), "changelog_id", None, id="huge changelog"
            ),
            pytest.param(
                changed(UPDATED, "changelog.id", "9" * 5000),
                "changelog_id",
                None,
                id="changelog id of 5,000 digits",
            ),
            pytest.param(
                changed(UPDATED, "changelog.id", 2**63),
                "changelog_id",
                None,
                id="changelog id beyond 64 bits",
            ),
            pytest.param(
                changed(UPDATED, "changelog.id", "abc"), "changelog_id", None, id="changelog text"
            ),
            pytest.param(changed(UPDATED, "changelog.id", 12), "changelog_id", 12, id="number"),
            pytest.param(changed(UPDATED, "issue.id", 10040), "issue_id", "10040", id="id number"),
            pytest.param(
                changed(UPDATED, "changelog.items.0.toString", {"name": "Done"}),
                "kind",
                EventKind.ISSUE_UPDATED,
                id="toString as an object",
            ),
            pytest.param(
                changed(COMMENTED, "comment.body", "a\x00b\ud800c"),
                "comment.body",
                "a\ufffdb\ufffdc",
                id="NUL and a lone surrogate in a comment",
            ),
            pytest.param(
                changed(COMMENTED, "comment.body", ["hi"]), "comment.body", "", id="body as a list"
            ),
            pytest.param(
                changed(COMMENTED, "comment.author.displayName", "Jane\ud800"),
                "comment.author.display_name",
                "Jane\ufffd",
                id="lone surrogate in a name",
            ),
            pytest.param(
                changed(COMMENTED, "comment.author.name", ["jdoe"]),
                "comment.author.name",
                None,
                id="user name as a list",
            ),
            pytest.param(
                changed(COMMENTED, "comment.created", float("nan")),
                "comment.created",
                None,
                id="created as NaN",
            ),
            pytest.param(changed(UPDATED, "issue", None), "issue_id", None, id="issue null"),
            pytest.param(changed(COMMENTED, "comment", None), "comment", None, id="comment null"),
        ],
    )
    def test_the_leaf_is_lost(self, payload: dict[str, Any], attribute: str, expected: Any) -> None:
        assert attrgetter(attribute)(parse_delivery(payload)) == expected

    def test_field_values_keep_their_shape_with_unstorable_characters_replaced(self) -> None:
        payload = changed(UPDATED, "issue.fields.customfield_1", {"v\x00": ["a\ud800", 7, None]})
        assert parse_delivery(payload).changes.fields["severity"] == (
            "Severity",
            {"v\ufffd": ["a\ufffd", 7, None]},
        )

    @pytest.mark.parametrize(
        "event", ["jira:issue_created", "jira:issue_deleted", "comment_updated", "comment_deleted"]
    )
    def test_a_changelog_the_event_does_not_use_is_not_read(self, event: str) -> None:
        payload = simple_event(event, "10040", "A-1") | {"changelog": {"items": "anything"}}
        assert parse_delivery(payload).issue_id == "10040"


# -- anything at all -----------------------------------------------------------------------------

text = st.text(st.characters(exclude_categories=()), max_size=8)  # NUL and surrogates too
huge_numbers = st.sampled_from([4400, 4300]).map(lambda digits: 10**digits)
finite = st.floats(allow_nan=False, allow_infinity=False)  # JSON has no NaN nor Infinity
scalars = st.none() | st.booleans() | st.integers() | huge_numbers | finite | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


def jira_or_any(*shapes: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Jira's own values three times in four, else any JSON value (deep enough to reach every
    branch, odd enough to hit every check)."""
    jira = st.one_of(*shapes)
    return st.sampled_from([jira, jira, jira, json_values]).flatmap(lambda chosen: chosen)


def body_with(**keys: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return jira_or_any(st.fixed_dictionaries({}, optional=keys))


jira_times = st.sampled_from(["2019-02-15T19:07:51.756-0800", "9999-12-31T23:59:59.000-2359"])
times = jira_or_any(jira_times, st.integers(), finite)
ids = jira_or_any(st.sampled_from(["10040", "1", ""]), st.integers())
field_names = jira_or_any(st.sampled_from(["status", "issuetype", "project", "Key", "Severity"]))
users = body_with(displayName=text, name=text, key=text, emailAddress=text, accountId=text)
comments = body_with(
    id=ids,
    self=jira_or_any(st.just("http://jira/rest/api/2/issue/10013/comment/10082")),
    body=jira_or_any(text),
    author=users,
    created=times,
    updated=times,
    visibility=json_values,
    jsdPublic=json_values,
)
changelog_items = body_with(
    field=field_names, fieldId=field_names, fromString=jira_or_any(text), toString=jira_or_any(text)
)
changelogs = body_with(id=ids, items=jira_or_any(st.lists(changelog_items, max_size=4)))
issues = body_with(
    id=ids,
    key=jira_or_any(st.sampled_from(["A-1", "NEW-2"])),
    fields=body_with(updated=times, project=body_with(key=text, name=text), Severity=json_values),
)
events = jira_or_any(
    st.sampled_from(["jira:issue_updated", "jira:issue_deleted", "comment_created"])
)
event_types = jira_or_any(st.sampled_from(["issue_commented", "issue_comment_edited"]))
jira_like_bodies = st.fixed_dictionaries(
    {},
    optional={
        "webhookEvent": events,
        "issue_event_type_name": event_types,
        "issue": issues,
        "comment": comments,
        "changelog": changelogs,
    },
)


def texts_in(value: Any) -> list[str]:
    """The texts inside a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in texts_in(item)]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [key, *texts_in(item)]]
    return []


def texts_of(parsed: ParsedDelivery) -> list[str | None]:
    """Every text the parse made, field values included."""
    changes, comment, move = parsed.changes, parsed.comment, parsed.changes.move
    found: list[str | None] = [parsed.event, parsed.issue_id, parsed.issue_key]
    found += [changes.status_from, changes.status_to, changes.issue_type]
    for key, (name, value) in changes.fields.items():
        found += [key, name, *texts_in(value)]
    if move is not None:
        found += [move.old_key, move.new_key, move.project_key, move.project_name]
    if comment is not None:
        author = comment.author
        found += [comment.id, comment.issue_id, comment.body, author.display_name, author.name]
        found += [author.key, author.email, author.account_id]
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(text, json_values, max_size=5) | jira_like_bodies)
def test_any_json_object_is_read_or_unreadable(payload: dict[str, Any]) -> None:
    try:
        parsed = parse_delivery(payload)
    except UnreadableWebhook:
        return  # the one exception allowed
    assert isinstance(parsed.kind, EventKind)
    assert parsed.updated is None or parsed.updated.tzinfo is UTC
    assert parsed.changelog_id is None or isinstance(parsed.changelog_id, int)
    for found in texts_of(parsed):
        assert found is None or (isinstance(found, str) and not UNSTORABLE.search(found))
    assert PARSED.validate_json(PARSED.dump_json(parsed)) == parsed  # as the apply job gets it
