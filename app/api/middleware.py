"""ASGI middleware: request id + access log, the request body size limit, and write requests run
again when they lost a race."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.responses import error_response_for_path
from app.core.errors import Conflict, LostRace, PayloadTooLarge
from app.core.logging import get_logger, redact_query

log = get_logger("app.access")


class RequestContextMiddleware:
    """Gives every request an id (kept from `X-Request-ID` when sent), writes one access line,
    and counts it under way (`app.state.foreground`: the in-process worker gives way to it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = _header(scope, b"x-request-id")
        request_id = sent_id.decode("latin-1")[:64] if sent_id else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            with scope["app"].state.foreground.serving():
                await self.app(scope, receive, send_with_id)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            path = scope["path"] + (f"?{redact_query(query)}" if query else "")
            log.info(
                "http.request",
                method=scope["method"],
                path=path,  # the log's own redaction hides secret-looking values in it too
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


class BodySizeLimitMiddleware:
    """Answers 413 for bodies over the limit, by Content-Length or while streaming.

    A body with a Content-Length within the limit passes untouched: the HTTP server delivers
    exactly that many bytes (anything after them is the next request), so only bodies without
    one (chunked) are counted as they arrive.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes: int = scope["app"].state.settings.max_body_bytes
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit():
            if int(length) > max_bytes:
                await self._reject(scope, receive, send, max_bytes)
            else:
                await self.app(scope, receive, send)
            return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the app answers after the limit was crossed is replaced by the 413.
            if not too_large:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            pass
        if too_large:
            await self._reject(scope, receive, send, max_bytes)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        error = PayloadTooLarge(f"The request body is larger than {max_bytes} bytes.")
        await error_response_for_path(scope["path"], error)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RACE_ATTEMPTS = 3


class RetryLostRacesMiddleware:
    """Runs a write request again when its unit of work lost a race to a concurrent one (two
    creates of one ExternalID or one name): rolled back, the retry sees the winner's row, so the
    answer is the one the sequential case gives (an update, "exists", "duplicate"), never a 500.
    The body is kept to be read again (the size limit, outside, bounds it). The unit of work
    commits before the answer starts, so a lost race never follows a sent answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        for attempt in range(1, RACE_ATTEMPTS + 1):
            if await self._ran(scope, body, receive, send):
                return
            log.info("http.lost_race", method=scope["method"], attempt=attempt)
        error = Conflict(
            "A concurrent change to the same data won the race each time; nothing was changed. "
            "Try again."
        )
        await error_response_for_path(scope["path"], error)(scope, receive, send)

    async def _ran(self, scope: Scope, body: list[Message], receive: Receive, send: Send) -> bool:
        """One run of the request with its body read again; False when it lost a race."""
        replayed = iter(body)
        started = False

        async def replay() -> Message:
            return next(replayed, None) or await receive()

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, replay, tracked_send)
        except LostRace:
            if started:
                raise
            return False
        return True


async def _whole_body(receive: Receive) -> list[Message]:
    """The request's body messages, up to the last one (or a disconnect)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case), without building a dict of them all."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None
