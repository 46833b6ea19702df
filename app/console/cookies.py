"""The console's session, kept in a cookie signed with SECRET_KEY: whether the holder signed in,
the CSRF token its forms carry, and when it expires. Pure functions; the clock is a parameter.

The signing key also depends on the API token, so changing API_TOKEN signs everybody out."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

COOKIE_NAME = "console_session"


@dataclass(frozen=True)
class ConsoleSession:
    signed_in: bool
    csrf: str
    expires: float  # Unix time


def signing_key(secret_key: str, api_token: str) -> bytes:
    material = b"helpdesk-jira-sync/console-session\x00" + secret_key.encode() + b"\x00"
    return hashlib.sha256(material + api_token.encode()).digest()


def new_session(*, signed_in: bool, now: float, lifetime: float) -> ConsoleSession:
    return ConsoleSession(signed_in, secrets.token_urlsafe(32), now + lifetime)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(session: ConsoleSession, key: bytes) -> str:
    payload = json.dumps(
        {"in": session.signed_in, "csrf": session.csrf, "exp": session.expires},
        separators=(",", ":"),
    ).encode()
    body = _b64(payload)
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def decode(cookie: str | None, key: bytes, now: float) -> ConsoleSession | None:
    """The session the cookie holds, or None when it is missing, tampered with or expired."""
    if not cookie or cookie.count(".") != 1:
        return None
    body, signature = cookie.split(".")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        data = json.loads(_unb64(body))
        session = ConsoleSession(bool(data["in"]), str(data["csrf"]), float(data["exp"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    return session if session.expires > now else None


def csrf_matches(session: ConsoleSession | None, sent: str | None) -> bool:
    return (
        session is not None
        and bool(sent)
        and hmac.compare_digest(session.csrf.encode(), (sent or "").encode())
    )
