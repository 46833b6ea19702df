"""Who may read a Jira comment: everyone who sees the issue, or only the team.

A comment is private when it is restricted to a role or group (`visibility`), or when it is an
internal note of Jira Service Management: Cloud says so with `jsdPublic: false`, Server/Data
Center only through the comment's `sd.public.comment` property (`{"internal": true}`), which
webhook bodies do not carry and REST answers give with `expand=properties`. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.jira.deliveries import Privacy

SD_PUBLIC_COMMENT = "sd.public.comment"


def audience_property(*, internal: bool) -> dict[str, Any]:
    """The `sd.public.comment` value that makes a new comment internal or public."""
    return {"internal": internal}


def says_internal(value: Any) -> bool | None:
    """What an `sd.public.comment` value says: internal, public, or nothing (None)."""
    if isinstance(value, dict) and isinstance(value.get("internal"), bool):
        return bool(value["internal"])
    return None


def internal_by_property(properties: Any) -> bool | None:
    """What a comment's `properties` (`[{key, value}]`, as Jira lists them) say of it."""
    if not isinstance(properties, Iterable) or isinstance(properties, str | bytes | dict):
        return None
    for prop in properties:
        key = prop.get("key") if isinstance(prop, dict) else getattr(prop, "key", None)
        value = prop.get("value") if isinstance(prop, dict) else getattr(prop, "value", None)
        if key == SD_PUBLIC_COMMENT:
            return says_internal(value)
    return None


def comment_privacy(
    visibility: Any, jsd_public: Any, properties: Any, complete: bool = True
) -> Privacy:
    """PRIVATE when anything says so; PUBLIC only when Jira said so (`jsdPublic: true`, or the
    property saying public) in a complete answer; else UNKNOWN: ask Jira before showing it."""
    internal = internal_by_property(properties)
    if visibility or jsd_public is False or internal is True:
        return Privacy.PRIVATE
    if complete and (jsd_public is True or internal is False):
        return Privacy.PUBLIC
    return Privacy.UNKNOWN
