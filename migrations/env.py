"""Alembic environment: async engines, a connection handed in by the app, batch mode for SQLite."""

from __future__ import annotations

import asyncio
import os
import warnings

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

import app.models  # noqa: F401  (registers every table)
from app.core.db import create_engine, metadata
from app.core.settings import DEFAULT_DATABASE_URL

config = context.config
# SQLite cannot reflect the lower(name) unique indexes; a batch migration copying such a table
# says so, and the migration that needs it puts the index back (20261130_20's downgrade).
warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based", SAWarning)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "DATABASE_URL", DEFAULT_DATABASE_URL
    )
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `python -m app migrate`")
run_migrations_online()
