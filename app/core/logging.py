"""Structured logging (structlog): JSON lines with a request id; secrets are never written."""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from collections.abc import MutableMapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

import structlog

SECRET_IN_TEXT = re.compile(
    r"(?P<key>(?:apiKey|api_key|apiToken|api_token|secret|token|password)=[\"']?)"
    r"(?P<value>[^&\s\"']+)",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """Hide the values of secret-looking query parameters (`apiKey=…`) in a string."""
    return SECRET_IN_TEXT.sub(lambda m: m.group("key") + "***", text)


SECRET_NAME_PARTS = ("apikey", "token", "secret", "password", "authorization", "signature")


@lru_cache(maxsize=4096)  # log fields and parameters are named from a small set
def is_secret_name(name: str) -> bool:
    """Whether a log field or query parameter so named holds a secret, in any spelling that an
    endpoint may read as one: percent- or plus-encoded (`s%65cret`, `api%4Bey`), any case,
    padded or split by separators (`apiKey%20`, `API-Key`, `api_token`)."""
    decoded = name
    for _ in range(3):  # encoded twice over is not read as the name, but is hidden all the same
        decoded, previous = unquote_plus(decoded), decoded
        if decoded == previous:
            break
    squashed = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", decoded)).casefold()
    return any(part in squashed for part in SECRET_NAME_PARTS)


def redact_query(query: str) -> str:
    """A raw query string with the value of every secret parameter (`is_secret_name`) hidden."""
    pieces = []
    for piece in query.split("&"):
        name, equals, _value = piece.partition("=")
        pieces.append(f"{name}=***" if equals and is_secret_name(name) else piece)
    return "&".join(pieces)


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key != "event" and is_secret_name(key):
            event[key] = "***"
        elif isinstance(value, str):
            event[key] = redact_text(value)
    return event


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    # Standard-library loggers (uvicorn, alembic) go through the same redaction and renderer.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # The access log is written by our own middleware, with secrets redacted.
    logging.getLogger("uvicorn.access").disabled = True
    for chatty in ("httpx", "httpcore", "alembic.runtime.migration"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
