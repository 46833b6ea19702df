"""Rendering console pages: Jinja2 templates shipped in the package (autoescaped: whatever a
user typed is shown as text), the session cookie, and the security headers of every answer."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.console.cookies import COOKIE_NAME, ConsoleSession, encode, new_session
from app.console.deps import cookie_key
from app.core.settings import Settings

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
PREFIX = "/console"


def when(value: object) -> str:
    """A moment as people read it: `2026-11-30 04:28` (UTC)."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    text = str(value or "")
    return text[:16].replace("T", " ") if len(text) >= 16 and text[10] == "T" else text


TEMPLATES.filters["when"] = when

# No inline script or style, nothing from elsewhere, never in a frame.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def render(
    request: Request,
    template: str,
    session: ConsoleSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(
        session=session, csrf=session.csrf if session else "", path=request.url.path, **context
    )
    return HTMLResponse(html, status_code=status_code)


def fragment(template: str, **context: Any) -> tuple[str, str]:
    """A part of a page, rendered on its own, and a version of it (what the page's script
    compares to tell whether it changed)."""
    html = TEMPLATES.get_template(template).render(**context)
    return html, hashlib.sha256(html.encode()).hexdigest()[:16]


def set_session_cookie(response: Response, session: ConsoleSession, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        encode(session, cookie_key(settings)),
        max_age=max(1, int(session.expires - time.time())),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=settings.public_url.lower().startswith("https://"),
    )


def fresh_session(settings: Settings, *, signed_in: bool) -> ConsoleSession:
    return new_session(
        signed_in=signed_in, now=time.time(), lifetime=settings.console_session_seconds
    )


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)


class ConsoleHeadersMiddleware:
    """The console's security headers on every answer under `/console` (pages, redirects,
    assets, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in {header for header, _ in SECURITY_HEADERS}
                ]
                message["headers"] = kept + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)
