"""Service settings, read from the environment or a local `.env` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/helpdesk.db"
PLACEHOLDER_SECRETS = {"changethis", "changeme", "secret", "password", ""}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    api_token: SecretStr
    secret_key: SecretStr
    public_url: str = "http://127.0.0.1:8080"

    run_worker: bool = True
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    max_body_bytes: int = 1024 * 1024
    # The database connections a process keeps (`pool_size`). One beyond them is opened for a
    # transaction and closed after it: a new server process, every statement prepared again on
    # it. 10 kept, a worker applying 100 deliveries/s for a subscription opened 8 a second.
    db_pool_size: int | None = Field(default=None, ge=1)
    db_max_overflow: int = 10
    # The webhook route's own connections (PostgreSQL), each held for one statement. While the
    # worker in the same process applies, a statement's answer waits for the event loop's turn;
    # 10 then took 835 deliveries/s with a 4 s p99, 30 with 152 ms, 60 with 96 ms (README).
    inbox_pool_size: int = Field(default=32, ge=1)

    job_max_attempts: int = 8
    job_lease_seconds: float = 60.0
    job_retry_base_seconds: float = 0.5
    job_retry_max_seconds: float = 300.0
    worker_concurrency: int = 8
    # A stopping worker (SIGTERM) lets its jobs in hand end for this long, then cancels the rest
    # and queues them again at once: a Jira that does not answer never holds a stop up for its
    # timeout (a container platform kills a process that takes too long to stop).
    worker_stop_grace_seconds: float = Field(default=5.0, ge=0)
    done_job_retention_seconds: float = 3600.0
    webhook_retention_days: int = 7
    reconcile_interval_seconds: float = 600.0

    jira_timeout_seconds: float = 20.0
    jira_max_retries: int = 4
    jira_retry_base_seconds: float = 0.5
    # Jira's search sees a new issue only after its index catches up; a create Jira did not
    # confirm is looked for (and only then made again) after this long.
    jira_search_settle_seconds: float = Field(default=10.0, ge=0)
    # A write whose answer was lost (a timeout, a 5xx once it was sent) may still be applied by
    # Jira for about its own request timeout: it is looked for, and only then made again, after
    # this long; a second copy that still gets through is removed (a comment) or reported (an
    # issue) after this long again.
    jira_late_write_seconds: float = Field(default=60.0, ge=0)
    # `POST /JiraInstances/{ID}/Test` is an admin waiting at a screen: one try per call, and an
    # answer ("did not answer in time") within this many seconds whatever the network does.
    jira_test_timeout_seconds: float = Field(default=8.0, gt=0)
    # A 429 (or a quota pause) asking for at most this long is waited out in place; a longer
    # one hands the job back to the worker, to run again once the time Jira gave has passed.
    jira_max_wait_seconds: float = Field(default=60.0, ge=0)
    allow_private_jira_hosts: bool = True

    # A console sign-in lasts this long (the session cookie's expiry).
    console_session_seconds: float = Field(default=8 * 3600, gt=0)

    # Outgoing events (EventSubscriptions): a delivery is retried for this long, then Failed.
    event_retry_hours: float = Field(default=72.0, gt=0)
    event_retry_base_seconds: float = Field(default=1.0, ge=0)
    event_retry_max_seconds: float = Field(default=3600.0, ge=0)
    event_timeout_seconds: float = Field(default=10.0, gt=0)
    # Deliveries run in a worker lane of their own (never in the Jira sync's slots), and one
    # subscription takes at most `event_subscription_concurrency` of them at a time.
    event_delivery_concurrency: int = Field(default=32, ge=1)
    event_subscription_concurrency: int = Field(default=8, ge=1)
    allow_private_event_urls: bool = True
    # Finished deliveries (the log of GET /EventDeliveries) are kept this long.
    event_retention_days: int = Field(default=30, ge=1)

    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=1000, ge=1)

    @property
    def pool_size(self) -> int:
        """`db_pool_size`, else a connection for each job slot of the default lane and of one
        subscription's event deliveries, and 4 for the claims, the finisher and requests."""
        if self.db_pool_size is not None:
            return self.db_pool_size
        return self.worker_concurrency + self.event_subscription_concurrency + 4

    @field_validator("api_token", "secret_key")
    @classmethod
    def reject_placeholder(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("must be set to a real secret, not a placeholder")
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters long")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()  # required values come from the environment


def ensure_local_secrets(env_file: Path = Path(".env")) -> str | None:
    """Write random API_TOKEN/SECRET_KEY to `.env` unless the environment or the file has them.

    Returns the new API token (to be shown once), or None when nothing was written.
    """
    import os

    existing = env_file.read_text() if env_file.exists() else ""
    present = {
        line.split("=", 1)[0].strip()
        for line in existing.splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    lines: list[str] = []
    token: str | None = None
    if "API_TOKEN" not in os.environ and "API_TOKEN" not in present:
        token = secrets.token_urlsafe(32)
        lines.append(f"API_TOKEN={token}")
    if "SECRET_KEY" not in os.environ and "SECRET_KEY" not in present:
        lines.append(f"SECRET_KEY={secrets.token_urlsafe(32)}")
    if not lines:
        return None
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    # Created private: the secrets are never readable by others, not even for a moment.
    descriptor = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        handle.write(prefix + "\n".join(lines) + "\n")
    env_file.chmod(0o600)
    return token
