"""Jira's webhook bodies (Cloud and Server/Data Center, old and new shapes) as typed models, and
`parse_delivery`: what a delivery means, in Jira's words.

The parse is total: for any decoded JSON it returns a `ParsedDelivery` or raises
`UnreadableWebhook`, never anything else. A body is *unreadable* when its skeleton is not Jira's,
so that any reading of it would be a guess:

- it is not a JSON object; `issue`, `issue.fields`, `comment`, `comment.author` or `changelog` is
  not an object, or `changelog.items` not a list of objects (`null` counts as absent);
- `webhookEvent`, `issue_event_type_name` or `issue.key` is not a string; `issue.id` or
  `comment.id` is neither a string of at most 64 characters nor an integer Jira can hold (a
  64-bit long: a 4,300-digit number is not an id);
- one of those names or ids holds a NUL or a lone surrogate (no database stores them as text).

The rest is read leniently, as Jira's bodies vary between versions: a leaf of the wrong type is
absent (a number as `fieldId`, a list as `displayName`); a time that does not parse, or does not
fit a `datetime` once in UTC (`9999-12-31T23:59:59.000-2359`), is None, and so is a changelog id
that is not a 64-bit integer; NUL and lone surrogates in free text (comment body, user names,
changelog and field values) become U+FFFD. `issue.fields` is not modelled (it is big and varies
per site): the values of changed fields reach `IssueChanges.fields` as Jira sent them. What an
event does not use is not read: `timestamp`, `user`, and the changelog of any event but
`jira:issue_updated`.

A body is parsed once, when it is received, into the `ParsedDelivery` of `deliveries.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from app.core.wire import UNSTORABLE_CHARS
from app.jira import audience
from app.jira.deliveries import (
    Author,
    CommentInfo,
    EventKind,
    IssueChanges,
    Move,
    ParsedDelivery,
    Privacy,
)

ISSUE_ID_IN_COMMENT_URL = re.compile(r"/issue/(\d+)/comment/")
# Jira Server event names of `jira:issue_updated` that are about comments, not fields.
COMMENT_EDIT_EVENTS = {"issue_comment_edited"}
COMMENT_DELETE_EVENTS = {"issue_comment_deleted"}
JIRA_LONG = range(-(2**63), 2**63)
MAX_ID_CHARS = 64  # Jira's ids are numbers; the service keeps them as text of at most this


class UnreadableWebhook(ValueError):
    """The body is not a Jira webhook the service can read; `reason` names the part and why.

    A `ValueError`, like the undecodable JSON callers already skip."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- the body's parts ----------------------------------------------------------------------------


def _unreadable(why: str) -> PydanticCustomError:
    return PydanticCustomError("unreadable", why)


def _jira_id(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        if value not in JIRA_LONG:
            raise _unreadable("an integer beyond 64 bits")
        return str(value)
    if value is not None and not isinstance(value, str):
        raise _unreadable("neither a string nor an integer")
    if value is not None and len(value) > MAX_ID_CHARS:
        raise _unreadable(f"longer than {MAX_ID_CHARS} characters")
    return _jira_name(value)


def _jira_name(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _unreadable("not a string")
    if not _storable(value):
        raise _unreadable("holds a NUL or a lone surrogate")
    return value


def _text_or_none(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value if _storable(value) else UNSTORABLE_CHARS.sub("\ufffd", value)


def _storable(text: str) -> bool:
    """Without NUL and lone surrogates (the regular expression only when it may find one)."""
    if text.isascii():
        return "\x00" not in text
    return UNSTORABLE_CHARS.search(text) is None


def _storable_json(value: Any) -> Any:
    """A field's value as Jira sent it, with NUL and lone surrogates in its texts made U+FFFD."""
    if isinstance(value, str):
        return _text_or_none(value)
    if isinstance(value, list):
        return [_storable_json(item) for item in value]
    if isinstance(value, dict):
        return {_text_or_empty(key): _storable_json(item) for key, item in value.items()}
    return value


def _text_or_empty(value: object) -> str:
    return _text_or_none(value) or ""


def _jira_long_or_none(value: object) -> int | None:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:  # not a number, or too many digits to read
            return None
    if isinstance(value, int) and not isinstance(value, bool) and value in JIRA_LONG:
        return value
    return None


def _object(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _unreadable("not an object")
    return value


# Ids and names say what a delivery is about: of the wrong kind, the body is unreadable.
JiraId = Annotated[str | None, PlainValidator(_jira_id)]
JiraName = Annotated[str | None, PlainValidator(_jira_name)]
# Leaves are lenient: of the wrong kind they are absent.
Text = Annotated[str, PlainValidator(_text_or_empty)]
OptionalText = Annotated[str | None, PlainValidator(_text_or_none)]
ChangelogId = Annotated[int | None, PlainValidator(_jira_long_or_none)]
# Taken as it is, not validated key by key: it is the biggest part of a body.
IssueFields = Annotated[dict[str, Any], PlainValidator(_object)]


class WebhookPart(BaseModel):
    """Jira's camelCase names; unknown keys ignored."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)


class WebhookUser(WebhookPart):
    """Cloud users have an `accountId`; Server/Data Center users a `name` and `key`."""

    display_name: OptionalText = None
    name: OptionalText = None
    key: OptionalText = None
    email_address: OptionalText = None
    account_id: OptionalText = None

    def as_author(self) -> Author:
        return Author(
            display_name=self.display_name or self.name or "Jira user",
            name=self.name,
            key=self.key,
            email=self.email_address,
            account_id=self.account_id,
        )


class WebhookComment(WebhookPart):
    id: JiraId = None
    self_: OptionalText = Field(default=None, alias="self")
    body: OptionalText = None
    author: WebhookUser | None = None
    # As Jira wrote them: an edit is told from a new comment by comparing the two as they are.
    created: Any = None
    updated: Any = None
    visibility: Any = None
    jsd_public: Any = None
    properties: Any = None

    def privacy(self, *, payload_reliable: bool) -> Privacy:
        """`audience.comment_privacy`: Server/Data Center bodies never tell an internal note."""
        complete = payload_reliable and {"body", "author"} <= self.model_fields_set
        return audience.comment_privacy(self.visibility, self.jsd_public, self.properties, complete)

    def is_new(self, event_type: str | None) -> bool:
        """Whether this is a new comment, not an edit (old Servers tell only by `updated`)."""
        if event_type == "issue_commented":
            return True
        return self.updated is None or self.created == self.updated

    def as_info(self, issue_id: str | None, *, payload_reliable: bool = True) -> CommentInfo:
        return CommentInfo(
            id=self.id or "",
            issue_id=issue_id or issue_id_from_comment_url(self.self_),
            body=self.body or "",
            author=(self.author or WebhookUser()).as_author(),
            created=parse_jira_time(self.created),
            privacy=self.privacy(payload_reliable=payload_reliable),
        )


class ChangeItem(WebhookPart):
    """One changelog item (`field` is Jira's display name, `field_id` only on Cloud)."""

    field: Text = ""
    field_id: OptionalText = None
    from_string: OptionalText = None
    to_string: OptionalText = None


class Changelog(WebhookPart):
    id: ChangelogId = None
    items: list[ChangeItem] | None = None


class WebhookIssue(WebhookPart):
    id: JiraId = None
    key: JiraName = None
    fields: IssueFields = Field(default_factory=dict)


class WebhookBody(WebhookPart):
    webhook_event: JiraName = None
    issue_event_type_name: JiraName = Field(default=None, alias="issue_event_type_name")
    issue: WebhookIssue | None = None
    comment: WebhookComment | None = None


class IssueUpdatedBody(WebhookPart):
    """Read from `jira:issue_updated` bodies only: other events carry a changelog they do not use
    (a created issue's lists every field)."""

    changelog: Changelog | None = None


_Part = TypeVar("_Part", bound=WebhookPart)
_SHAPE_ERRORS = {"model_type": "not an object", "list_type": "not a list"}


def _read(model: type[_Part], data: object) -> _Part:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_context=False, include_input=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "the body"
        why = _SHAPE_ERRORS.get(error["type"], error["msg"])
        raise UnreadableWebhook(f"{where}: {why}") from None


# -- parsing -------------------------------------------------------------------------------------


def parse_jira_time(value: Any) -> datetime | None:
    """Jira's `2019-02-15T19:07:51.756-0800` (or ISO with a colon, or epoch ms) as aware UTC;
    None for anything else, and for a moment `datetime` cannot hold in UTC."""
    try:
        if isinstance(value, datetime):
            return as_utc(value)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / 1000, UTC)
        if isinstance(value, str):
            return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        return None
    return None


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; naive values (SQLite hands them back so) are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def issue_id_from_comment_url(url: str | None) -> str | None:
    """Jira Server's `comment_created` has no issue: its id is in `…/issue/10013/comment/10082`."""
    match = ISSUE_ID_IN_COMMENT_URL.search(url or "")
    return match.group(1) if match else None


def comment_privacy(comment: Mapping[str, Any], *, payload_reliable: bool = True) -> Privacy:
    """The privacy of a comment object as Jira sends it (see `WebhookComment.privacy`)."""
    return _read(WebhookComment, comment).privacy(payload_reliable=payload_reliable)


def changes_from_changelog(
    items: Sequence[ChangeItem], issue_fields: Mapping[str, Any], issue_key: str | None
) -> IssueChanges:
    """Status, type, move and other fields from changelog items; a field's new value is taken
    from the issue's own (structured) field when the item names its id, else its `toString`."""
    status_from = status_to = issue_type = None
    project_item: ChangeItem | None = None
    key_item: ChangeItem | None = None
    fields: dict[str, tuple[str, Any]] = {}
    for item in items:
        name = item.field.lower()
        field_id = (item.field_id or "").lower()
        if name == "status" or field_id == "status":
            status_from, status_to = item.from_string, item.to_string
        elif name == "issuetype" or field_id == "issuetype":
            issue_type = item.to_string
        elif name == "project" or field_id == "project":
            project_item = item
        elif name == "key":
            key_item = item
        else:
            value: Any = item.to_string
            if item.field_id and item.field_id in issue_fields:
                value = _storable_json(issue_fields[item.field_id])
            fields[name] = (item.field, value)
    move = None
    if project_item is not None or key_item is not None:
        project = issue_fields.get("project")
        if not isinstance(project, Mapping):
            project = {}
        new_key = (key_item.to_string if key_item else None) or issue_key or ""
        project_key = _text_or_none(project.get("key")) or new_key.rpartition("-")[0]
        project_name = (project_item.to_string if project_item else None) or _text_or_none(
            project.get("name")
        )
        if new_key and project_key:
            move = Move(
                old_key=key_item.from_string if key_item else None,
                new_key=new_key,
                project_key=project_key,
                project_name=project_name,
            )
    return IssueChanges(
        status_from=status_from,
        status_to=status_to,
        issue_type=issue_type,
        move=move,
        fields=fields,
    )


def parse_delivery(payload: Mapping[str, Any]) -> ParsedDelivery:
    """Classify a Jira webhook body (Cloud or Server, old or new shape); `UnreadableWebhook` when
    it is none (see the module docstring)."""
    body = _read(WebhookBody, payload)
    event = body.webhook_event or ""
    event_type = body.issue_event_type_name
    issue = body.issue or WebhookIssue()
    issue_id, issue_key = issue.id, issue.key
    sent_comment = body.comment
    if issue_id is None and sent_comment is not None:
        issue_id = issue_id_from_comment_url(sent_comment.self_)
    common: dict[str, Any] = {"event": event, "issue_id": issue_id, "issue_key": issue_key}

    if event == "jira:issue_created":
        return ParsedDelivery(
            kind=EventKind.IGNORED, note="issue created: Jira does not create tickets", **common
        )
    if event == "jira:issue_deleted":
        return ParsedDelivery(kind=EventKind.ISSUE_DELETED, **common)
    if event == "comment_created" and sent_comment is not None:
        created = sent_comment.as_info(issue_id)
        return ParsedDelivery(kind=EventKind.COMMENT_CREATED, comment=created, **common)
    if event == "comment_updated":
        return ParsedDelivery(
            kind=EventKind.COMMENT_UPDATED, note="comment edits are not propagated", **common
        )
    if event != "jira:issue_updated":
        return ParsedDelivery(kind=EventKind.IGNORED, note=f"event {event!r} not used", **common)

    changelog = _read(IssueUpdatedBody, payload).changelog or Changelog()
    changes = changes_from_changelog(changelog.items or [], issue.fields, issue_key)
    comment: CommentInfo | None = None
    note = ""
    if sent_comment is not None and event_type not in COMMENT_DELETE_EVENTS:
        if event_type not in COMMENT_EDIT_EVENTS and sent_comment.is_new(event_type):
            # The old Server shape (no event type name) is the one a payload cannot be trusted on.
            comment = sent_comment.as_info(issue_id, payload_reliable=event_type is not None)
        else:
            note = "comment edits are not propagated"
    if comment is None and changes.empty:
        kind = EventKind.COMMENT_UPDATED if note else EventKind.IGNORED
        return ParsedDelivery(kind=kind, note=note or "no change the tickets reflect", **common)
    return ParsedDelivery(
        kind=EventKind.ISSUE_UPDATED,
        updated=parse_jira_time(issue.fields.get("updated")),
        changelog_id=changelog.id,
        changes=changes,
        comment=comment,
        note=note,
        **common,
    )
