"""Fails the suite on any 5xx answer or unhandled exception."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_5XX: frozenset[int] = frozenset()  # was {501} while JiraKey answered NotImplemented


class ServerErrorRecorder:
    """ASGI middleware that notes every server error the app answers with or raises."""

    seen: list[str] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status >= 500 and status not in ALLOWED_5XX:
                    self.seen.append(f"{scope['method']} {scope['path']} answered {status}")
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except Exception as exc:
            self.seen.append(f"{scope['method']} {scope['path']} raised {exc!r}")
            raise


def take_server_errors() -> list[str]:
    seen = list(ServerErrorRecorder.seen)
    ServerErrorRecorder.seen.clear()
    return seen


def install(app: Any) -> None:
    app.add_middleware(ServerErrorRecorder)
