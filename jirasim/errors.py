"""Jira's error answer: `{"errorMessages": [...], "errors": {...}}`."""

from __future__ import annotations

from typing import Any


class JiraError(Exception):
    """An error Jira answers with a status and its usual error body."""

    def __init__(
        self,
        status: int,
        messages: list[str] | str | None = None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(messages, str):
            messages = [messages]
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}
        super().__init__(f"{status}: {self.messages} {self.errors}")

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}


def not_found_issue() -> JiraError:
    return JiraError(404, "Issue does not exist or you do not have permission to see it.")


def forbidden(what: str) -> JiraError:
    return JiraError(403, f"You do not have the permission to {what}.")
