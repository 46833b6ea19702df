"""`python -m app`: a configuration problem is one plain sentence and exit status 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.__main__ import main
from app.core.settings import get_settings

GOOD = "a-real-secret-0123456789"


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("API_TOKEN", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_serve_without_secrets_where_env_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").mkdir()  # as unusable as a read-only directory in a container
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert message.startswith("python -m app: API_TOKEN and SECRET_KEY are not set")
    assert "docker run -e API_TOKEN=... -e SECRET_KEY=..." in message
    assert "Traceback" not in message


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_invalid_settings_are_named_without_their_values(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("API_TOKEN", "tiny-token")
    monkeypatch.setenv("SECRET_KEY", GOOD)
    with pytest.raises(SystemExit) as stopped:
        main([command])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert "invalid settings (API_TOKEN: Value error, must be at least 16 characters long)" in (
        message
    )
    assert "tiny-token" not in message


def test_migrate_names_the_unreachable_database_without_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.live import free_port

    port = free_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://sync:s3cret@127.0.0.1:{port}/db")
    with pytest.raises(SystemExit) as stopped:
        main(["migrate"])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    where = f"postgresql+asyncpg://sync:***@127.0.0.1:{port}/db"
    assert message.startswith(f"python -m app: cannot migrate the database at {where}: ")
    assert "s3cret" not in message
    assert "Traceback" not in message
