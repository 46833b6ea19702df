"""The console's signed session cookie, as a table of cases: no clock, no I/O."""

from __future__ import annotations

import pytest

from app.console.cookies import (
    ConsoleSession,
    csrf_matches,
    decode,
    encode,
    new_session,
    signing_key,
)

KEY = signing_key("secret-key-0123456789", "api-token-0123456789")
NOW = 1_800_000_000.0


def cookie(**changes: object) -> str:
    session = ConsoleSession(signed_in=True, csrf="c" * 43, expires=NOW + 60)
    return encode(ConsoleSession(**{**session.__dict__, **changes}), KEY)  # type: ignore[arg-type]


def test_a_cookie_reads_back_as_the_session() -> None:
    session = new_session(signed_in=True, now=NOW, lifetime=60)
    assert decode(encode(session, KEY), KEY, NOW) == session


@pytest.mark.parametrize(
    ("value", "key", "now"),
    [
        (None, KEY, NOW),
        ("", KEY, NOW),
        ("no-dot", KEY, NOW),
        ("a.b.c", KEY, NOW),
        (cookie()[:-2] + "xx", KEY, NOW),  # signature changed
        ("e30" + cookie()[cookie().index(".") :], KEY, NOW),  # body changed
        (cookie(), signing_key("other-secret-key-0123", "api-token-0123456789"), NOW),
        (cookie(), signing_key("secret-key-0123456789", "new-api-token-0123456"), NOW),
        (cookie(), KEY, NOW + 60),  # expired
    ],
)
def test_a_cookie_not_signed_here_or_expired_is_no_session(
    value: str | None, key: bytes, now: float
) -> None:
    assert decode(value, key, now) is None


def test_each_session_has_its_own_csrf_token() -> None:
    first = new_session(signed_in=False, now=NOW, lifetime=60)
    second = new_session(signed_in=True, now=NOW, lifetime=60)
    assert first.csrf != second.csrf
    assert len(first.csrf) >= 40


@pytest.mark.parametrize(
    ("session", "sent", "matches"),
    [
        (ConsoleSession(True, "abc", NOW), "abc", True),
        (ConsoleSession(True, "abc", NOW), "abd", False),
        (ConsoleSession(True, "abc", NOW), "", False),
        (ConsoleSession(True, "abc", NOW), None, False),
        (None, "abc", False),
    ],
)
def test_csrf_matches(session: ConsoleSession | None, sent: str | None, matches: bool) -> None:
    assert csrf_matches(session, sent) is matches
