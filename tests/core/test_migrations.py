"""Migrations: the models match the migrated schema; down and up again work; /readyz knows."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import app.models  # noqa: F401  (registers every table)
from app.core.db import create_engine, metadata, utcnow
from app.core.migrations import HEAD_REVISION, alembic_config, pending_revisions, upgrade_to_head
from app.core.settings import Settings
from app.integration.inbound.status import _SET_STATUS, _STATUS_HISTORY
from app.integration.linked_issues import _ISSUE_ROWS_IF_FREE
from app.main import create_app
from tests.conftest import started
from tests.support.database import create_throwaway_database, drop_database, requested_url

SCRIPT = ScriptDirectory.from_config(alembic_config())
HEAD = SCRIPT.get_current_head()
ALL_REVISIONS = [revision.revision for revision in SCRIPT.walk_revisions()]  # newest first


@pytest.fixture
async def fresh_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of its own (a new file on SQLite, a new database on PostgreSQL)."""
    admin_url = requested_url(tmp_path)
    url = await create_throwaway_database(admin_url)
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_database(url, admin_url)


async def _alembic(engine: AsyncEngine, action: Callable[..., None], revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        action(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names: list[str] = await connection.run_sync(lambda c: inspect(c).get_table_names())
    return set(names) - {"alembic_version"}


# Indexes a migration creates in raw SQL for one dialect only, on purpose (not on the models).
DIALECT_ONLY_INDEXES = frozenset({"ix_crm_records_search"})  # PostgreSQL GIN jsonb_path_ops


def _compared(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "index" and name in DIALECT_ONLY_INDEXES)


# SQLite cannot reflect the lower(name) unique indexes, so only PostgreSQL compares them; the
# concurrent case-variant creations in tests/api/test_concurrent_creates.py hold them on both.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
async def test_models_match_the_migrated_schema(engine: AsyncEngine) -> None:
    """What `alembic check` does: autogenerate finds nothing to add, drop or alter."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": _compared,
                "compare_type": True,
                "compare_server_default": False,
                "render_as_batch": connection.dialect.name == "sqlite",
            },
        )
        return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(compare)
    assert differences == [], "models and migrations differ; add a migration"


async def test_the_run_database_is_at_head(engine: AsyncEngine) -> None:
    assert await pending_revisions(engine) == []
    async with engine.connect() as connection:
        assert (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).all() == [(HEAD,)]


def test_the_revision_the_code_expects_is_the_newest_migration() -> None:
    """A new migration moves `HEAD_REVISION` with it (readiness compares the database's with it)."""
    assert HEAD_REVISION == HEAD


def test_a_process_serving_a_current_database_never_loads_alembic(settings: Settings) -> None:
    """Alembic and the scripts it reads are about 10 MB of memory: the app, its start on a
    current database and its readiness probe do without them."""
    probe = """
import asyncio, sys
from app.core.db import create_engine
from app.core.migrations import readiness, upgrade_to_head
import app.main

async def main():
    engine = create_engine(sys.argv[1])
    await upgrade_to_head(engine)
    print(await readiness(engine))
    await engine.dispose()

asyncio.run(main())
assert not [name for name in sys.modules if name.split(".")[0] in ("alembic", "mako")], "loaded"
"""
    ran = subprocess.run(
        [sys.executable, "-c", probe, settings.database_url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert ran.returncode == 0, ran.stderr
    assert "'status': 'ready'" in ran.stdout


async def test_down_to_base_and_up_again(fresh_engine: AsyncEngine) -> None:
    await upgrade_to_head(fresh_engine)
    tables = await _tables(fresh_engine)
    assert {"tickets", "ticket_types", "sync_jobs"} <= tables
    assert set(metadata.tables) == tables

    await _alembic(fresh_engine, command.downgrade, "base")
    assert await _tables(fresh_engine) == set()
    assert await pending_revisions(fresh_engine) == ALL_REVISIONS

    await upgrade_to_head(fresh_engine)
    assert await _tables(fresh_engine) == tables
    assert await pending_revisions(fresh_engine) == []


async def test_upgrade_is_idempotent(fresh_engine: AsyncEngine) -> None:
    await upgrade_to_head(fresh_engine)
    await upgrade_to_head(fresh_engine)
    assert await pending_revisions(fresh_engine) == []


async def test_a_database_at_head_is_not_handed_to_alembic(
    fresh_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded database migrates itself at every start: when nothing is pending, the start
    does not pay for Alembic's run (it would on every test of the suite, too)."""
    await upgrade_to_head(fresh_engine)
    upgrades: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda config, revision: upgrades.append(revision))

    await upgrade_to_head(fresh_engine)
    assert upgrades == []

    await _alembic(fresh_engine, command.downgrade, ALL_REVISIONS[1])
    await upgrade_to_head(fresh_engine)
    assert upgrades == ["head"]


async def test_crm_field_names_taken_twice_before_the_name_key_keep_their_fields(
    fresh_engine: AsyncEngine,
) -> None:
    """Fields created by a race before names were unique in the database survive the upgrade:
    the later one keeps its code and gets a name key of its own."""
    await _alembic(fresh_engine, command.upgrade, "20261124_10")
    async with fresh_engine.begin() as connection:
        for code, name in [("pet", "Pet name"), ("pet2", "PET_NAME"), ("age", "Age")]:
            await connection.execute(
                text(
                    "INSERT INTO crm_fields (table_id, code, name, field_type, is_name, position)"
                    " SELECT id, :code, :name, 'Text', false, 9 FROM crm_tables"
                    " WHERE code = 'CLIENTS'"
                ),
                {"code": code, "name": name},
            )
    await upgrade_to_head(fresh_engine)
    async with fresh_engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT code, name_key, id FROM crm_fields WHERE code IN ('pet', 'pet2', 'age')")
        )
        keys = {code: (key, field_id) for code, key, field_id in rows}
    assert keys["pet"][0] == "petname"
    assert keys["pet2"][0] == f"petname#{keys['pet2'][1]}"
    assert keys["age"][0] == "age"


class TestProbes:
    async def test_healthz_needs_no_database_and_no_token(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/healthz", auth=None)
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok"}

    async def test_readyz_is_200_when_current(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/readyz", auth=None)
        assert answer.status_code == 200
        assert answer.json() == {"status": "ready"}

    async def test_readyz_is_503_with_the_pending_revisions(
        self, fresh_engine: AsyncEngine, make_settings: Callable[..., Settings]
    ) -> None:
        settings = make_settings(database_url=str(fresh_engine.url.render_as_string(False)))
        application = create_app(settings)
        async with started(application):
            # SQLite migrates itself at start, PostgreSQL does not: go to head, then one back.
            await upgrade_to_head(fresh_engine)
            await _alembic(fresh_engine, command.downgrade, "-1")
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                behind = await http.get("/readyz")
                assert behind.status_code == 503
                assert behind.json() == {"status": "migrations pending", "pending": [HEAD]}

                await upgrade_to_head(fresh_engine)
                assert (await http.get("/readyz")).status_code == 200


async def test_names_taken_twice_in_different_case_before_folding_keep_their_rows(
    fresh_engine: AsyncEngine,
) -> None:
    """Rows a race created before names were unique regardless of case survive the upgrade:
    the oldest keeps its name, a later twin gets its ID appended."""
    await _alembic(fresh_engine, command.upgrade, "20261130_10")
    async with fresh_engine.begin() as connection:
        for name in ("VPN", "vpn", "Printer"):
            await connection.execute(
                text("INSERT INTO action_types (name) VALUES (:name)"), {"name": name}
            )
    await upgrade_to_head(fresh_engine)
    async with fresh_engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id, name FROM action_types WHERE lower(name) LIKE 'vpn%' ORDER BY id")
        )
        (first_id, first), (second_id, second) = rows.all()
    assert (first, second) == ("VPN", f"vpn (ID {second_id})")


async def test_a_first_start_prints_no_warnings(fresh_engine: AsyncEngine) -> None:
    """A newcomer's `make run` migrates a new SQLite file: nothing alarming on the way (SQLite
    cannot reflect the lower(name) indexes, which later batch migrations used to report)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await upgrade_to_head(fresh_engine)
    assert [str(w.message) for w in caught if issubclass(w.category, SAWarning)] == []


@pytest.mark.postgres  # the plans are PostgreSQL's; SQLite's planner has no statistics to miss
async def test_a_delivery_reads_only_its_own_issue_and_tickets_before_any_statistics(
    fresh_engine: AsyncEngine,
) -> None:
    """Every applied delivery locks its issue and changes its tickets' status. In tables never
    analyzed (filled just now, before autovacuum's turn) the planner priced the instance's and
    the ticket type's indexes as the right ones, and read every issue of the instance and every
    ticket of the type each time: the migrated schema leaves it no such choice."""
    await upgrade_to_head(fresh_engine)
    async with fresh_engine.begin() as connection:
        for insert in _ISSUES_AND_TICKETS.split(";")[:-1]:
            await connection.execute(text(insert))
        values = {"instance_id": 1, "issue_ids": ["700040"], "issue_ref": 40, "type_id": 1}
        values |= {"target": 2, "new_name": "In Progress", "now": utcnow()}
        for statement in (_ISSUE_ROWS_IF_FREE, _STATUS_HISTORY, _SET_STATUS):
            assert await _rows_read(connection, statement, values) == 1, statement
        await connection.rollback()


_ISSUES_AND_TICKETS = """
INSERT INTO ticket_types (name) VALUES ('Task');
INSERT INTO ticket_statuses (name, ticket_type_id, is_default, is_closed)
    VALUES ('To Do', 1, true, false), ('In Progress', 1, false, false);
INSERT INTO jira_issues (instance_id, issue_id, issue_key, deleted)
    SELECT 1, (700000 + n)::text, 'K-' || n, false FROM generate_series(1, 500) n;
INSERT INTO tickets (ticket_number, name, ticket_type_id, status_id, date_created,
    date_modified, jira_issue_ref, jira_sync_status)
    SELECT n, 'Ticket', 1, 1, now(), now(), n, 'Linked' FROM generate_series(1, 500) n;
"""


SCANNED = ("jira_issues", "tickets")


async def _rows_read(connection: AsyncConnection, statement: Any, values: dict[str, Any]) -> int:
    """How many table rows the statement's plan reads, by `EXPLAIN ANALYZE` (run, then undone
    with the test's transaction): the rows its scans of the issues and tickets return, and those
    their filters drop."""

    plans: list[Any] = []

    def explained(*args: Any) -> tuple[str, Any]:
        sql, parameters = args[2], args[3]
        return f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", parameters

    def kept(_conn: Any, cursor: Any, *_args: Any) -> None:
        plans.append(cursor.fetchone()[0])

    engine = connection.sync_engine
    event.listen(engine, "before_cursor_execute", explained, retval=True)
    event.listen(engine, "after_cursor_execute", kept)
    try:
        await connection.execute(statement, values)
    finally:
        event.remove(engine, "before_cursor_execute", explained)
        event.remove(engine, "after_cursor_execute", kept)
    (plan,) = plans

    def read(node: dict[str, Any]) -> int:
        scanned = "Scan" in node["Node Type"] and node.get("Relation Name") in SCANNED
        own = node["Actual Rows"] + node.get("Rows Removed by Filter", 0) if scanned else 0
        return own + sum(read(child) for child in node.get("Plans", []))

    return read(plan[0]["Plan"])
