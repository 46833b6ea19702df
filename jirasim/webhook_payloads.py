"""Webhook bodies in the shapes Jira Cloud and Jira Server send."""

from __future__ import annotations

from typing import Any

from jirasim.events import JiraEvent
from jirasim.render import Renderer
from jirasim.state import epoch_ms

Payload = tuple[str, dict[str, Any]]


def build_payloads(event: JiraEvent, render: Renderer) -> list[Payload]:
    """The (webhookEvent, body) pairs one event produces for a target of the renderer's style."""
    server = render.flavor == "server"
    base: dict[str, Any] = {"timestamp": epoch_ms(event.at)}
    wanted = None if server else [f for f in render.state.fields if f != "comment"]
    issue = render.issue(event.issue, fields=wanted)
    issue.pop("expand", None)
    user = render.user(event.user)
    if event.kind.startswith("issue_"):
        name = f"jira:{event.kind}"
        body = {**base, "webhookEvent": name, "issue_event_type_name": event.event_type_name}
        body.update(user=user, issue=issue)
        if event.changelog is not None and event.kind != "issue_deleted":
            body["changelog"] = {
                "id": event.changelog.id,
                "items": [render.change_item(i) for i in event.changelog.items],
            }
        return [(name, body)]
    assert event.comment is not None
    comment = render.comment(event.comment)
    name = event.kind
    if not server:
        return [
            (
                name,
                {
                    **base,
                    "webhookEvent": name,
                    "comment": comment,
                    "issue": render.slim_issue(event.issue),
                },
            )
        ]
    announce: dict[str, Any] = {**base, "webhookEvent": name}
    if event.kind == "comment_deleted":
        announce["user"] = user
    announce["comment"] = comment
    updated: dict[str, Any] = {
        "timestamp": base["timestamp"] + 10,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": event.event_type_name,
        "user": user,
        "issue": issue,
    }
    if event.kind != "comment_deleted":
        updated["comment"] = comment
    return [(name, announce), ("jira:issue_updated", updated)]
