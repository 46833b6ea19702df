"""Logs are JSON lines with a request id; the API token and `apiKey=` values never appear."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import structlog

from app.core.logging import (
    _redact,
    configure_logging,
    get_logger,
    redact_query,
    redact_text,
)
from app.core.settings import Settings
from tests.conftest import API_TOKEN, api_client, started
from tests.support.inbound import deliver, issue_updated, item
from tests.support.world import ISSUE_ID, ISSUE_KEY, linked_world

CRM_KEY = "crm-key-that-must-stay-hidden"


@pytest.fixture
def output() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
async def logged_app(
    app_instance: Any,
    make_settings: Callable[..., Settings],
    settings: Settings,
    db: Any,
    output: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Any]:
    """The app logging at INFO (JSON), as in production, to `output` instead of stdout."""
    app_instance.state.settings = make_settings(log_level="INFO", log_format="json")
    monkeypatch.setattr(sys, "stdout", output)  # the log configuration binds stdout at start
    try:
        async with started(app_instance):
            yield app_instance
    finally:
        app_instance.state.settings = settings
        monkeypatch.undo()


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


async def test_secrets_never_reach_the_log(output: io.StringIO, logged_app: Any) -> None:
    async with api_client(logged_app) as http:
        await http.get("/api/json/TicketTypes", params={"apiKey": CRM_KEY, "PageSize": 5})
        await http.get(
            f"/api/json/Tickets?token={API_TOKEN}",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )
        await http.get("/api/json/Tickets", auth=("user", "wrong-" + API_TOKEN))
    log = get_logger("test")
    log.info("custom.event", api_token=API_TOKEN, url=f"http://x/?apiKey={CRM_KEY}&a=1")
    log.warning(f"jira.call failed for password={API_TOKEN}")
    logging.getLogger("uvicorn.error").warning("header Authorization: apiKey=%s", CRM_KEY)

    output = output.getvalue()
    assert API_TOKEN not in output
    assert CRM_KEY not in output
    lines = json_lines(output)
    requests = [line for line in lines if line["event"] == "http.request"]
    assert len(requests) == 3
    assert requests[0]["path"] == "/api/json/TicketTypes?apiKey=***&PageSize=5"
    assert requests[0]["status"] == 200
    assert requests[2]["status"] == 401
    custom = next(line for line in lines if line["event"] == "custom.event")
    assert custom["api_token"] == "***"
    assert custom["url"] == "http://x/?apiKey=***&a=1"
    assert any(line["event"] == "header Authorization: apiKey=***" for line in lines)


async def test_a_jira_delivery_writes_one_line_its_access_line_telling_what_came(
    output: io.StringIO, logged_app: Any, session: Any
) -> None:
    """One access line per request at INFO, carrying what the receiver decided."""
    world = await linked_world(session, 1)
    payload = issue_updated(ISSUE_ID, ISSUE_KEY, [item("status", "To Do", "Done")])
    async with api_client(logged_app) as http:
        for _ in range(2):
            assert (await deliver(http, world.instance_id, payload)).is_success

    lines = [line for line in json_lines(output.getvalue()) if "delivery_id" in line]
    assert [(line["event"], line["outcome"]) for line in lines] == [
        ("http.request", "accepted"),
        ("http.request", "duplicate"),
    ]
    assert (lines[0]["jira_event"], lines[0]["issue_id"]) == ("jira:issue_updated", ISSUE_ID)
    assert lines[0]["path"] == f"/webhooks/jira/{world.instance_id}"


async def test_request_id_is_echoed_and_logged(output: io.StringIO, logged_app: Any) -> None:
    async with api_client(logged_app) as http:
        given = await http.get("/healthz", headers={"X-Request-ID": "req-123"})
        generated = await http.get("/healthz")
        unauthorised = await http.get("/api/xml/Tickets", auth=None)
    assert given.headers["X-Request-ID"] == "req-123"
    assert len(generated.headers["X-Request-ID"]) == 32
    assert unauthorised.headers["X-Request-ID"]
    lines = [line for line in json_lines(output.getvalue()) if line["event"] == "http.request"]
    assert [line["request_id"] for line in lines][0] == "req-123"
    assert {"level", "timestamp", "method", "duration_ms"} <= set(lines[0])


async def test_an_overlong_request_id_is_cut(logged_app: Any) -> None:
    async with api_client(logged_app) as http:
        answer = await http.get("/healthz", headers={"X-Request-ID": "r" * 500})
    assert answer.headers["X-Request-ID"] == "r" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/crm?apiKey=abc&command=x", "/crm?apiKey=***&command=x"),
        ("api_token=abc def", "api_token=*** def"),
        ("PASSWORD=p4ss", "PASSWORD=***"),
        ("nothing secret here", "nothing secret here"),
        ("secret='quoted'", "secret='***'"),
        ('{"x": "y", password="hunter2"}', '{"x": "y", password="***"}'),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


SECRET_SPELLINGS = [
    "secret",
    "s%65cret",
    "%73%65%63%72%65%74",
    "SECRET",
    "secret%20",
    "+secret",
    "s%2565cret",
    "apiKey",
    "api%4Bey",
    "apiKey%20",
    "%20apikey%09",
    "API_KEY",
    "api-key",
    "apiToken",
    "api%54oken",
    "password",
    "pass%77ord",
    "%EF%BD%93ecret",
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("s%65cret=abc&a=1", "s%65cret=***&a=1"),
        ("api%4Bey=abc&command=x", "api%4Bey=***&command=x"),
        ("apiKey%20=abc", "apiKey%20=***"),
        ("a=1&b=secret", "a=1&b=secret"),
        ("secret", "secret"),
        ("x=1&&secret=", "x=1&&secret=***"),
        ("webhookSecret=a=b", "webhookSecret=***"),
        ("command=listusers", "command=listusers"),
    ],
)
def test_redact_query(query: str, expected: str) -> None:
    assert redact_query(query) == expected


@pytest.mark.parametrize("name", SECRET_SPELLINGS)
async def test_no_spelling_of_a_secret_parameter_reaches_the_access_log(
    output: io.StringIO, logged_app: Any, name: str
) -> None:
    async with api_client(logged_app, auth=None) as http:
        for url in (
            f"/webhooks/jira/1?{name}={CRM_KEY}",
            f"/plugins/servlet/crm/api?command=listusers&{name}={CRM_KEY}&userName=u",
            f"/api/json/TicketTypes?{name}={CRM_KEY}",
        ):
            answer = await http.post(url) if "webhooks" in url else await http.get(url)
            assert name in answer.request.url.query.decode()

    output_text = output.getvalue()
    assert CRM_KEY not in output_text
    requests = [line for line in json_lines(output_text) if line["event"] == "http.request"]
    assert len(requests) == 3
    assert all(f"{name}=***" in line["path"] for line in requests)


@pytest.mark.parametrize(
    ("field", "hidden"),
    [
        ("api_token", True),
        ("ApiKey", True),
        ("webhook_secret", True),
        ("Authorization", True),
        ("x-hub-signature", True),
        ("password", True),
        ("ticket_id", False),
        ("host_name", False),
    ],
)
def test_log_fields_named_as_secrets_are_hidden(field: str, hidden: bool) -> None:
    event = _redact(None, "info", {"event": "saved", field: "s3cr3t-value"})
    assert (event[field] == "***") == hidden


@pytest.fixture
def reconfigured(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A test that configures logging itself; the configuration before it comes back after."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield monkeypatch
    monkeypatch.undo()
    structlog.configure(**saved)
    root.handlers = handlers
    root.setLevel(level)


def test_a_logger_follows_a_new_configuration(reconfigured: pytest.MonkeyPatch) -> None:
    monkeypatch = reconfigured
    log = get_logger("test.rebind")
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", first)
    configure_logging("INFO", "json")
    log.info("one")
    monkeypatch.setattr(sys, "stdout", second)
    configure_logging("WARNING", "json")
    log.info("dropped")
    log.warning("two")
    assert [line["event"] for line in json_lines(first.getvalue())] == ["one"]
    assert [line["event"] for line in json_lines(second.getvalue())] == ["two"]


def test_a_value_json_has_no_fast_form_for_is_still_logged(
    reconfigured: pytest.MonkeyPatch,
) -> None:
    """orjson refuses integers beyond 64 bits; a fuzzed payload may carry one."""
    monkeypatch = reconfigured
    output = io.StringIO()
    monkeypatch.setattr(sys, "stdout", output)
    configure_logging("INFO", "json")
    get_logger("test.big").info("big", value=10**30)
    (line,) = json_lines(output.getvalue())
    assert line["value"] == 10**30


def test_a_logger_used_before_is_captured_by_capture_logs(reconfigured: pytest.MonkeyPatch) -> None:
    reconfigured.setattr(sys, "stdout", io.StringIO())
    configure_logging("INFO", "json")
    log = get_logger("test.capture")
    log.info("before")
    with structlog.testing.capture_logs() as logs:
        log.info("during")
    assert [entry["event"] for entry in logs] == ["during"]
