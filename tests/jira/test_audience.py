"""Who may read a Jira comment (pure): `visibility`, Cloud's `jsdPublic`, and the Service
Management `sd.public.comment` property Server/Data Center tells an internal note by."""

from __future__ import annotations

from typing import Any

import pytest

from app.jira.audience import (
    SD_PUBLIC_COMMENT,
    audience_property,
    comment_privacy,
    internal_by_property,
)
from app.jira.deliveries import Privacy
from app.jira.schemas import Comment

INTERNAL = [{"key": SD_PUBLIC_COMMENT, "value": {"internal": True}}]
PUBLIC = [{"key": SD_PUBLIC_COMMENT, "value": {"internal": False}}]
ROLE = {"type": "role", "value": "Developers"}


@pytest.mark.parametrize(
    ("properties", "internal"),
    [
        (INTERNAL, True),
        (PUBLIC, False),
        (None, None),
        ([], None),
        ([{"key": "helpdesk-sync", "value": {"internal": True}}], None),
        ([{"key": SD_PUBLIC_COMMENT, "value": {"internal": "yes"}}], None),
        ([{"key": SD_PUBLIC_COMMENT, "value": None}], None),
        ({"key": SD_PUBLIC_COMMENT, "value": {"internal": True}}, None),  # not a list
        ("sd.public.comment", None),
        ([None, 3, *INTERNAL], True),
    ],
)
def test_internal_by_property(properties: Any, internal: bool | None) -> None:
    assert internal_by_property(properties) is internal


@pytest.mark.parametrize(
    ("visibility", "jsd_public", "properties", "complete", "privacy"),
    [
        (None, True, None, True, Privacy.PUBLIC),  # Cloud, a public comment
        (None, False, None, True, Privacy.PRIVATE),  # Cloud, an internal note
        (ROLE, None, None, True, Privacy.PRIVATE),
        (ROLE, True, None, False, Privacy.PRIVATE),  # private whatever else is known
        (None, None, INTERNAL, True, Privacy.PRIVATE),  # Server, read with expand=properties
        (None, None, PUBLIC, True, Privacy.PUBLIC),
        (None, True, INTERNAL, True, Privacy.PRIVATE),  # any sign of private wins
        (None, None, None, True, Privacy.UNKNOWN),  # a Server body: ask Jira
        (None, True, None, False, Privacy.UNKNOWN),  # an incomplete body: ask Jira
        (None, "true", None, True, Privacy.UNKNOWN),  # not Jira's boolean
    ],
)
def test_comment_privacy(
    visibility: Any, jsd_public: Any, properties: Any, complete: bool, privacy: Privacy
) -> None:
    assert comment_privacy(visibility, jsd_public, properties, complete) is privacy


@pytest.mark.parametrize(
    ("answer", "privacy"),
    [
        ({"id": "1"}, Privacy.PUBLIC),  # a Jira Software comment read with expand=properties
        ({"id": "1", "jsdPublic": False}, Privacy.PRIVATE),
        ({"id": "1", "visibility": ROLE}, Privacy.PRIVATE),
        ({"id": "1", "properties": INTERNAL}, Privacy.PRIVATE),
        ({"id": "1", "properties": PUBLIC}, Privacy.PUBLIC),
    ],
)
def test_a_rest_answer_read_with_its_properties(answer: dict[str, Any], privacy: Privacy) -> None:
    assert Comment.model_validate(answer).privacy() is privacy


def test_the_property_a_new_comment_is_made_with() -> None:
    assert audience_property(internal=True) == {"internal": True}
    assert audience_property(internal=False) == {"internal": False}
