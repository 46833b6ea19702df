"""Stored-secret encryption and webhook signatures."""

from __future__ import annotations

import pytest

from app.core.security import SecretBox, hmac_sha256_hex, signature_matches


def test_a_secret_round_trips_and_is_not_stored_in_clear() -> None:
    box = SecretBox("key-one-0123456789")
    token = box.encrypt("jira-api-token")
    assert "jira-api-token" not in token
    assert box.decrypt(token) == "jira-api-token"
    assert box.decrypt(token) == "jira-api-token"  # the second read comes from the cache


def test_another_secret_key_cannot_read_it() -> None:
    token = SecretBox("key-one-0123456789").encrypt("jira-api-token")
    with pytest.raises(ValueError, match="SECRET_KEY"):
        SecretBox("key-two-0123456789").decrypt(token)


def test_the_cache_stays_bounded() -> None:
    box = SecretBox("key-one-0123456789")
    tokens = [box.encrypt(f"secret-{n}") for n in range(SecretBox.MAX_CACHED + 10)]
    assert [box.decrypt(token) for token in tokens] == [
        f"secret-{n}" for n in range(SecretBox.MAX_CACHED + 10)
    ]
    assert len(box._decrypted) <= SecretBox.MAX_CACHED


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sha256=" + hmac_sha256_hex("s3cret", b"{}"), True),
        ("sha256=" + hmac_sha256_hex("s3cret", b"{}").upper(), True),
        ("sha256=" + hmac_sha256_hex("other", b"{}"), False),
        (hmac_sha256_hex("s3cret", b"{}"), False),
        (None, False),
    ],
)
def test_signature_header(header: str | None, expected: bool) -> None:
    assert signature_matches(header, "s3cret", b"{}") is expected
