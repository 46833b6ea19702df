"""Errors the Jira client raises, and the one place where Jira responses are mapped to them."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

EXCERPT_CHARS = 200
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


class JiraError(Exception):
    """A Jira call failed; `message` holds Jira's own words (errorMessages, then field errors)."""

    _transient = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_messages: Sequence[str] = (),
        errors: Mapping[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.error_messages = list(error_messages)
        self.errors = dict(errors or {})
        self.method = method
        self.path = path
        super().__init__(message)

    @property
    def transient(self) -> bool:
        """True when repeating the job later may succeed without anyone changing anything."""
        return self._transient

    def __str__(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else "Jira call"
        status = f" -> {self.status}" if self.status is not None else ""
        return f"{where}{status}: {self.message}"


class JiraAuthError(JiraError):
    """401 or 403: credentials or permissions of the instance need fixing."""


class JiraNotFound(JiraError):
    """404: the issue, project, comment or property does not exist (or is not visible)."""


class JiraValidationError(JiraError):
    """400 and the other 4xx: Jira rejected the request as it stands."""


class JiraUnexpectedResponse(JiraError):
    """A success status with a body the client cannot read (not JSON, or not the expected shape)."""


class JiraAddressRefused(JiraError):
    """The HostName resolved to an address the service will not connect to (link-local, cloud
    metadata, or private when those are forbidden), or cannot be looked up at all (not a valid
    host name); nothing was sent."""


class JiraTransientError(JiraError):
    """Worth repeating later."""

    _transient = True


class JiraUnavailable(JiraTransientError):
    """5xx or connection failures, still failing after the client's own retries."""


class JiraAmbiguousResult(JiraTransientError):
    """A create may or may not have happened: check before repeating it."""


class JiraRateLimited(JiraTransientError):
    """429 after the client's own retries, or a Retry-After too long to wait for in place."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        reason: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.reason = reason


def parse_error_body(response: httpx.Response) -> tuple[list[str], dict[str, str], str]:
    """Jira's `errorMessages` and `errors` from an error body, plus a short text excerpt."""
    try:
        data = response.json()
    except ValueError:
        return [], {}, body_excerpt(response.text)
    messages: list[str] = []
    errors: dict[str, str] = {}
    if isinstance(data, dict):
        raw_messages = data.get("errorMessages")
        if isinstance(raw_messages, list):
            messages = [str(item) for item in raw_messages]
        raw_errors = data.get("errors")
        if isinstance(raw_errors, dict):
            errors = {str(key): str(value) for key, value in raw_errors.items()}
        if not messages and not errors and isinstance(data.get("message"), str):
            messages = [data["message"]]
    return messages, errors, body_excerpt(response.text)


def body_excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Collapse an HTML or text body into one short line of readable text."""
    plain = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def jira_message(error_messages: Sequence[str], errors: Mapping[str, str]) -> str:
    """Jira's own words: `errorMessages` verbatim, then each field error as `field: text`."""
    parts = [*error_messages, *(f"{field}: {text}" for field, text in errors.items())]
    return "; ".join(parts)


def error_from_response(
    response: httpx.Response,
    *,
    retry_after: float | None = None,
    reason: str | None = None,
    ambiguous: bool = False,
) -> JiraError:
    """Map a non-success response to the matching error type."""
    messages, errors, excerpt = parse_error_body(response)
    status = response.status_code
    message = jira_message(messages, errors) or _fallback_message(response, excerpt)
    if status == 401 and (login_reason := response.headers.get("X-Seraph-LoginReason")):
        message = f"{message} (login reason: {login_reason})"
    common: dict[str, Any] = {
        "status": status,
        "error_messages": messages,
        "errors": errors,
        "method": response.request.method,
        "path": response.request.url.path,
    }
    if ambiguous:
        return JiraAmbiguousResult(message, **common)
    if status == 429:
        return JiraRateLimited(message, retry_after=retry_after or 0.0, reason=reason, **common)
    if status in (401, 403):
        return JiraAuthError(message, **common)
    if status == 404:
        return JiraNotFound(message, **common)
    if 400 <= status < 500:
        return JiraValidationError(message, **common)
    if status >= 500:
        return JiraUnavailable(message, **common)
    return JiraUnexpectedResponse(message, **common)


def error_from_transport(
    exc: httpx.TransportError, *, method: str, path: str, ambiguous: bool
) -> JiraError:
    """Map a connection failure or timeout; `ambiguous` when the request may have been applied."""
    if isinstance(exc, httpx.UnsupportedProtocol):
        return JiraValidationError(f"Not a usable Jira URL: {exc}", method=method, path=path)
    detail = body_excerpt(str(exc))
    kind = type(exc).__name__ + (f" ({detail})" if detail else "")
    if ambiguous:
        message = f"{kind} after the request may have been sent; check before repeating it"
        return JiraAmbiguousResult(message, method=method, path=path)
    return JiraUnavailable(f"{kind}: no usable answer from Jira", method=method, path=path)


def unexpected_body(response: httpx.Response, problem: str) -> JiraUnexpectedResponse:
    return JiraUnexpectedResponse(
        f"{problem}: {body_excerpt(response.text) or '(empty body)'}",
        status=response.status_code,
        method=response.request.method,
        path=response.request.url.path,
    )


def _fallback_message(response: httpx.Response, excerpt: str) -> str:
    phrase = response.reason_phrase or "error"
    if response.is_redirect and (location := response.headers.get("Location")):
        excerpt = f"redirected to {location} (check the Jira host name)"
    return f"HTTP {response.status_code} {phrase}" + (f": {excerpt}" if excerpt else "")
