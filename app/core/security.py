"""Secret handling: constant-time comparison, HMAC signatures, encryption of stored credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


def tokens_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(header: str | None, secret: str, body: bytes) -> bool:
    """Check a `sha256=<hex>` signature header against the HMAC of the raw body."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(
        header[len("sha256=") :].strip().lower(), hmac_sha256_hex(secret, body)
    )


class SecretBox:
    """Encrypts secrets at rest with a Fernet key derived from SECRET_KEY."""

    # Decrypted values are kept by ciphertext (a stored secret never changes in place), so the
    # webhook receiver does not pay for AES and HMAC on every delivery.
    MAX_CACHED = 1024

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"helpdesk-jira-sync/secret-box\x00" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self._decrypted: dict[str, str] = {}

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        if (cached := self._decrypted.get(token)) is not None:
            return cached
        try:
            plaintext = self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                "stored secret cannot be decrypted with the current SECRET_KEY"
            ) from exc
        if len(self._decrypted) >= self.MAX_CACHED:
            self._decrypted.clear()
        self._decrypted[token] = plaintext
        return plaintext
