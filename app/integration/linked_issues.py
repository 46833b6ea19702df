"""The `jira_issues` rows tickets link to, keyed by (instance, Jira's issue ID)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.integration.models import JiraIssue


async def upsert_issue(
    session: AsyncSession, *, instance_id: int, issue_id: str, issue_key: str
) -> JiraIssue:
    """The row for this issue, created or given its current key; safe against a concurrent
    insert of the same issue by another worker (ON CONFLICT on both databases)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(JiraIssue).values(
        instance_id=instance_id, issue_id=issue_id, issue_key=issue_key, deleted=False
    )
    statement = statement.on_conflict_do_update(
        index_elements=["instance_id", "issue_id"],
        set_={"issue_key": issue_key, "deleted": False},
    )
    await session.execute(statement)
    row = await session.scalar(
        select(JiraIssue)
        .where(col(JiraIssue.instance_id) == instance_id, col(JiraIssue.issue_id) == issue_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def issue_row(
    session: AsyncSession, instance_id: int, issue_id: str | None, *, lock: bool = False
) -> JiraIssue | None:
    """The row of an issue, if any ticket ever linked to it; `lock` holds it for the
    transaction, so the changes of one issue are applied one at a time."""
    if issue_id is None:
        return None
    query = _ISSUE_ROW_LOCKED if lock else _ISSUE_ROW
    row: JiraIssue | None = await session.scalar(
        query, {"instance_id": instance_id, "issue_id": issue_id}
    )
    return row


async def issue_rows_if_free(
    session: AsyncSession, instance_id: int, issue_ids: Sequence[str]
) -> dict[str, JiraIssue]:
    """The rows of these issues that no other transaction holds, locked for the transaction, by
    issue id, in one statement; an issue held elsewhere is left out, as one without a row
    (PostgreSQL; SQLite has one writer at a time)."""
    if not issue_ids:
        return {}
    rows = await session.scalars(
        _ISSUE_ROWS_IF_FREE, {"instance_id": instance_id, "issue_ids": list(issue_ids)}
    )
    return {row.issue_id: row for row in rows}


# Built once, bound at each use (every delivery applied reads it: making the statement would
# cost more than running it).
_ISSUE_ROW = select(JiraIssue).where(
    col(JiraIssue.instance_id) == bindparam("instance_id"),
    col(JiraIssue.issue_id) == bindparam("issue_id"),
)
_ISSUE_ROW_LOCKED = _ISSUE_ROW.with_for_update()
_ISSUE_ROWS_IF_FREE = (
    select(JiraIssue)
    .where(
        col(JiraIssue.instance_id) == bindparam("instance_id"),
        col(JiraIssue.issue_id).in_(bindparam("issue_ids", expanding=True)),
    )
    .with_for_update(skip_locked=True)
)
