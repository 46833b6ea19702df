"""ASGI middleware: request id + access log, and the request body size limit."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.responses import error_response_for_path
from app.core.errors import PayloadTooLarge
from app.core.logging import get_logger, redact_query, redact_text

log = get_logger("app.access")


class RequestContextMiddleware:
    """Gives every request an id (kept from `X-Request-ID` when sent) and writes one access line."""

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
            await self.app(scope, receive, send_with_id)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            path = scope["path"] + (f"?{redact_query(query)}" if query else "")
            log.info(
                "http.request",
                method=scope["method"],
                path=redact_text(path),
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


def _header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case), without building a dict of them all."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None
