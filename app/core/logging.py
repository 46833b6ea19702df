"""Structured logging (structlog): JSON lines with a request id; secrets are never written."""

from __future__ import annotations

import json
import logging
import re
import sys
import unicodedata
from collections.abc import MutableMapping
from functools import lru_cache
from typing import Any, TextIO
from urllib.parse import unquote_plus

import orjson
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
        elif isinstance(value, str) and "=" in value:  # every secret pattern has one
            event[key] = redact_text(value)
    return event


def _json_bytes(event: Any, **options: Any) -> bytes:
    """orjson, a few times faster than the standard library; which refuses integers beyond 64
    bits (a fuzzed payload may carry one), so those lines go through `json` instead."""
    try:
        return orjson.dumps(event, default=options.get("default"))
    except orjson.JSONEncodeError:
        return json.dumps(event, default=options.get("default")).encode()


def _json_text(event: Any, **options: Any) -> str:
    return _json_bytes(event, **options).decode()


class _TextAsBytes:
    """A text stream (a test's StringIO) taking the bytes lines."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode())

    def flush(self) -> None:
        self.stream.flush()


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Log lines go to standard output as JSON (or, with `fmt="console"`, for a person). The hot
    path (an access line per request) is cheap: bytes rendered by orjson, records below the level
    dropped before anything is built. (Loggers are not cached: `structlog.testing.capture_logs`
    and a new configuration must reach loggers already used.)"""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    text_renderer: Any
    if fmt == "json":
        stdout: Any = getattr(sys.stdout, "buffer", None) or _TextAsBytes(sys.stdout)
        renderer: Any = structlog.processors.JSONRenderer(serializer=_json_bytes)
        factory: Any = structlog.BytesLoggerFactory(stdout)
        text_renderer = structlog.processors.JSONRenderer(serializer=_json_text)
    else:
        renderer = text_renderer = structlog.dev.ConsoleRenderer()
        factory = structlog.PrintLoggerFactory(sys.stdout)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=factory,
        cache_logger_on_first_use=False,
    )
    # Standard-library loggers (uvicorn, alembic) go through the same redaction and renderer.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, text_renderer],
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


def annotate_request(**fields: Any) -> None:
    """Fields for the current request's access line (and any other line it logs): what a
    request did is told once, on the line every request writes."""
    structlog.contextvars.bind_contextvars(**fields)
