"""Settings: real secrets required; a first start writes private random ones to `.env`."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.settings import Settings, ensure_local_secrets

GOOD = "a-real-secret-0123456789"


def make(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("API_TOKEN", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


class TestSettings:
    @pytest.mark.parametrize("field", ["api_token", "secret_key"])
    @pytest.mark.parametrize("value", ["changethis", "ChangeMe", " secret ", "password", ""])
    def test_placeholder_secrets_are_rejected(self, field: str, value: str) -> None:
        values = {"api_token": GOOD, "secret_key": GOOD, field: value}
        with pytest.raises(ValidationError, match="placeholder"):
            make(**values)

    def test_short_secrets_are_rejected(self) -> None:
        with pytest.raises(ValidationError, match="16 characters"):
            make(api_token="short-token", secret_key=GOOD)

    def test_secrets_are_required(self, clean_env: Path) -> None:
        with pytest.raises(ValidationError):
            make()

    def test_defaults_follow_the_contract(self, clean_env: Path) -> None:
        settings = make(api_token=GOOD, secret_key=GOOD)
        assert settings.database_url == "sqlite+aiosqlite:///./data/helpdesk.db"
        assert (settings.host, settings.port) == ("127.0.0.1", 8080)
        assert GOOD not in repr(settings)

    def test_values_come_from_the_environment(
        self, clean_env: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("API_TOKEN", GOOD)
        monkeypatch.setenv("SECRET_KEY", GOOD + "x")
        monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://db/helpdesk")
        monkeypatch.setenv("PORT", "9000")
        settings = make()
        assert settings.api_token.get_secret_value() == GOOD
        assert settings.port == 9000


class TestEnsureLocalSecrets:
    def test_writes_a_private_env_file_once_and_returns_the_token(self, clean_env: Path) -> None:
        env_file = clean_env / ".env"
        token = ensure_local_secrets(env_file)

        assert token is not None
        assert len(token) >= 32
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        lines = env_file.read_text().splitlines()
        assert lines[0] == f"API_TOKEN={token}"
        assert lines[1].startswith("SECRET_KEY=")
        assert len(lines[1]) > len("SECRET_KEY=") + 32
        settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
        assert settings.api_token.get_secret_value() == token

        content = env_file.read_text()
        assert ensure_local_secrets(env_file) is None
        assert env_file.read_text() == content

    def test_keeps_existing_values_and_adds_only_what_is_missing(self, clean_env: Path) -> None:
        env_file = clean_env / ".env"
        env_file.write_text("# mine\nAPI_TOKEN=my-own-token-0123456789\nPORT=9000")
        assert ensure_local_secrets(env_file) is None  # no new token to show
        lines = env_file.read_text().splitlines()
        assert lines[:3] == ["# mine", "API_TOKEN=my-own-token-0123456789", "PORT=9000"]
        assert lines[3].startswith("SECRET_KEY=")
        assert len(lines) == 4

    def test_writes_nothing_when_the_environment_has_both(
        self, clean_env: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("API_TOKEN", GOOD)
        monkeypatch.setenv("SECRET_KEY", GOOD)
        assert ensure_local_secrets(clean_env / ".env") is None
        assert not (clean_env / ".env").exists()

    def test_env_file_is_ignored_by_git(self, repo_root: Path) -> None:
        assert ".env" in (repo_root / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize(
    ("values", "kept"),
    [
        ({}, 20),  # 8 jobs, 8 deliveries of one subscription, 4 more
        ({"worker_concurrency": "16"}, 28),
        ({"event_subscription_concurrency": "2"}, 14),
        ({"db_pool_size": "5"}, 5),  # as set
        ({"db_pool_size": "50", "worker_concurrency": "2"}, 50),
    ],
)
def test_the_pool_keeps_a_connection_for_each_job_slot(values: dict[str, str], kept: int) -> None:
    assert make(api_token=GOOD, secret_key=GOOD, **values).pool_size == kept
