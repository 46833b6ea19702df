"""Applying and inspecting Alembic migrations from the app (serve, migrate, readyz, tests).

Alembic, with the migration scripts it reads, takes about 10 MB of a process's memory once
loaded. A database at `HEAD_REVISION` (the usual case: every readiness probe, every start of a
current embedded database) is recognised by one query and never loads it; only a database
behind (or ahead) has its pending revisions worked out from the scripts."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parents[2]
# The newest migration's revision: the one the code expects the database at (a test holds it
# equal to the scripts' head, so that a new migration cannot be forgotten here).
HEAD_REVISION = "20261202_20"
_VERSIONS = text("SELECT version_num FROM alembic_version")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


@cache
def _scripts() -> ScriptDirectory:
    """The migration scripts, read once per process: they do not change while it runs."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Apply what is pending; a database already at head costs one query, not Alembic's run."""
    if not await pending_revisions(engine):
        return

    def _upgrade(connection: Connection) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revisions(engine: AsyncEngine) -> set[str]:
    """The revisions the database is at (none before its first migration)."""
    async with engine.connect() as connection:
        try:
            return set((await connection.scalars(_VERSIONS)).all())
        except DBAPIError:
            await connection.rollback()
            if await connection.run_sync(lambda c: inspect(c).has_table("alembic_version")):
                raise
            return set()


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied to the database (empty when it is current), newest first."""
    current = await current_revisions(engine)
    if current == {HEAD_REVISION}:
        return []
    script = _scripts()
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
        pending = await pending_revisions(engine)
    except Exception as exc:
        return False, {"status": "unavailable", "database": type(exc).__name__}
    if pending:
        return False, {"status": "migrations pending", "pending": pending}
    return True, {"status": "ready"}
