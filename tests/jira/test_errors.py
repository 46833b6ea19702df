from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.jira.errors import (
    JiraAmbiguousResult,
    JiraAuthError,
    JiraError,
    JiraNotFound,
    JiraRateLimited,
    JiraUnavailable,
    JiraUnexpectedResponse,
    JiraValidationError,
    body_excerpt,
    error_from_response,
    error_from_transport,
)


def response(
    status: int, body: Any = None, *, text: str | None = None, **headers: str
) -> httpx.Response:
    request = httpx.Request("POST", "https://jira.example.com/rest/api/2/issue")
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


class TestErrorFromResponse:
    @pytest.mark.parametrize(
        ("status", "expected", "transient"),
        [
            (400, JiraValidationError, False),
            (401, JiraAuthError, False),
            (403, JiraAuthError, False),
            (404, JiraNotFound, False),
            (409, JiraValidationError, False),
            (429, JiraRateLimited, True),
            (500, JiraUnavailable, True),
            (503, JiraUnavailable, True),
            (302, JiraUnexpectedResponse, False),
        ],
    )
    def test_status_maps_to_type(
        self, status: int, expected: type[JiraError], transient: bool
    ) -> None:
        error = error_from_response(response(status, {}))
        assert type(error) is expected
        assert error.transient is transient
        assert error.status == status

    def test_message_is_jiras_words(self) -> None:
        body = {
            "errorMessages": ["Issue could not be created."],
            "errors": {"customfield_10010": "Severity is required.", "summary": "Too long."},
        }
        error = error_from_response(response(400, body))
        assert error.message == (
            "Issue could not be created.; customfield_10010: Severity is required.; "
            "summary: Too long."
        )
        assert error.error_messages == ["Issue could not be created."]
        assert error.errors == {
            "customfield_10010": "Severity is required.",
            "summary": "Too long.",
        }
        assert str(error).startswith("POST /rest/api/2/issue -> 400: ")

    def test_html_body_becomes_a_short_excerpt(self) -> None:
        page = (
            "<html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head>"
            "<body><h1>Bad   Gateway</h1><p>The proxy&nbsp;failed.</p>"
            + "x" * 1000
            + "</body></html>"
        )
        error = error_from_response(response(502, text=page))
        assert type(error) is JiraUnavailable
        assert error.message.startswith(
            "HTTP 502 Bad Gateway: 502 Bad Gateway Bad Gateway The proxy"
        )
        assert "<" not in error.message
        assert "color:red" not in error.message
        assert len(error.message) < 260
        assert error.error_messages == []

    def test_redirect_names_the_target(self) -> None:
        error = error_from_response(response(301, text="", Location="https://new.example.com/"))
        assert error.message == (
            "HTTP 301 Moved Permanently: redirected to https://new.example.com/ "
            "(check the Jira host name)"
        )

    def test_plain_message_field(self) -> None:
        error = error_from_response(response(400, {"message": "JQL is invalid"}))
        assert error.message == "JQL is invalid"

    def test_login_reason_is_added_to_401(self) -> None:
        error = error_from_response(
            response(401, text="", **{"X-Seraph-LoginReason": "AUTHENTICATION_DENIED"})
        )
        assert error.message == "HTTP 401 Unauthorized (login reason: AUTHENTICATION_DENIED)"

    def test_ambiguous_wins_for_a_create(self) -> None:
        error = error_from_response(response(500, {}), ambiguous=True)
        assert type(error) is JiraAmbiguousResult
        assert error.transient

    def test_rate_limited_carries_retry_after(self) -> None:
        error = error_from_response(
            response(429, {}), retry_after=7.0, reason="jira-per-issue-on-write"
        )
        assert isinstance(error, JiraRateLimited)
        assert (error.retry_after, error.reason) == (7.0, "jira-per-issue-on-write")


class TestErrorFromTransport:
    @pytest.mark.parametrize(
        ("exc", "ambiguous", "expected"),
        [
            (httpx.ReadTimeout("timed out"), True, JiraAmbiguousResult),
            (httpx.ConnectError("refused"), False, JiraUnavailable),
            (httpx.UnsupportedProtocol("no scheme"), False, JiraValidationError),
        ],
    )
    def test_maps(
        self, exc: httpx.TransportError, ambiguous: bool, expected: type[JiraError]
    ) -> None:
        error = error_from_transport(exc, method="POST", path="/x", ambiguous=ambiguous)
        assert type(error) is expected


def test_excerpt_of_plain_text() -> None:
    assert body_excerpt("  Service \n\n unavailable ") == "Service unavailable"
