"""Applying and inspecting Alembic migrations from the app (serve, migrate, readyz, tests)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


@cache
def _scripts() -> ScriptDirectory:
    """The migration scripts, read once per process: they do not change while it runs."""
    return ScriptDirectory.from_config(alembic_config())


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Apply what is pending; a database already at head costs one query, not Alembic's run."""
    if not await pending_revisions(engine):
        return

    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied to the database (empty when it is current)."""
    script = _scripts()

    def _current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    pending: list[str] = []
    for head in script.get_heads():
        for revision in script.iterate_revisions(head, "base"):
            if revision.revision in current:
                break
            pending.append(revision.revision)
    return pending


async def readiness(engine: AsyncEngine) -> tuple[bool, dict[str, object]]:
    """Whether the database answers and its migrations are current, and the probe's answer.
    Any database failure means "not ready": reported, never raised."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        pending = await pending_revisions(engine)
    except Exception as exc:
        return False, {"status": "unavailable", "database": type(exc).__name__}
    if pending:
        return False, {"status": "migrations pending", "pending": pending}
    return True, {"status": "ready"}
