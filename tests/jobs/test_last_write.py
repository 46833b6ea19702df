"""A job's last writes and its being done in one statement: built once per sequence of writes,
refused when a parameter of a write is named as a column of another table written (SQLAlchemy
would set it there too) or shared by two writes; and a loaded row's changes taken from the
flush as one of those writes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from app.core.db import table_of
from app.inbox.models import WebhookDelivery
from app.integration.models import JiraIssue
from app.jobs.last_write import pending_update, with_finish
from app.outgoing.models import EventDelivery
from tests.support.statements import statements_sent
from tests.support.world import make_instance


def write_setting(
    parameter: str, table: Any = EventDelivery, column: str = "last_error", key: str = "written_id"
) -> Update:
    """An event delivery's `last_error` (unless told otherwise) set from `parameter`."""
    written = table_of(table)
    return (
        update(written)
        .where(written.c.id == bindparam(key))
        .values({column: bindparam(parameter)})
        .returning(written.c.id)
    )


def marking(parameter: str) -> Update:
    """A webhook delivery's `outcome` set from `parameter`."""
    return write_setting(parameter, WebhookDelivery, "outcome", "marked_id")


@pytest.mark.parametrize("parameter", ["status", "attempts", "last_error", "kind"])
def test_a_parameter_named_as_a_column_of_the_jobs_is_refused(parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        with_finish((write_setting(parameter),))


def test_a_parameter_named_as_a_column_of_another_write_s_table_is_refused() -> None:
    """`processed_at` is a column of the deliveries the second write changes."""
    with pytest.raises(ValueError, match="processed_at"):
        with_finish((write_setting("processed_at"), marking("error")))


def test_a_parameter_of_two_writes_is_refused() -> None:
    with pytest.raises(ValueError, match="error"):
        with_finish((write_setting("error"), marking("error")))


def test_the_writes_and_the_finish_are_ctes_of_one_select() -> None:
    writes = (write_setting("error"), marking("seen"))
    statement = with_finish(writes)
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert sql.startswith("WITH written_0 AS")
    assert "UPDATE event_deliveries" in sql
    assert "UPDATE webhook_deliveries" in sql
    assert "UPDATE sync_jobs" in sql
    assert with_finish(writes) is statement  # built once


class TestPendingUpdate:
    async def issue(self, session: Any) -> JiraIssue:
        instance = await make_instance(session)
        issue = JiraIssue(instance_id=instance.id or 0, issue_id="10040", issue_key="DEMO-1")
        session.add(issue)
        await session.commit()
        return issue

    async def test_a_row_s_changes_become_its_write_and_the_flush_has_none_left(
        self, session: Any
    ) -> None:
        issue = await self.issue(session)
        issue.status_name, issue.last_changelog_id = "Done", 7
        issue.issue_key = "DEMO-1"  # set, unchanged

        write = pending_update(issue)

        assert write is not None
        assert write.parameters == {
            "pending_last_changelog_id": 7,
            "pending_status_name": "Done",
            "pending_row": issue.id,
        }
        with statements_sent(session.bind) as sent:
            await session.execute(write.statement, write.parameters)
            await session.commit()
        (written,) = [sql for sql in sent if sql.startswith("UPDATE")]
        assert written.startswith("UPDATE jira_issues SET last_changelog_id")
        stored = await session.execute(
            select(col(JiraIssue.status_name), col(JiraIssue.last_changelog_id))
        )
        assert stored.one() == ("Done", 7)

    async def test_a_row_without_changes_has_no_write(self, session: Any) -> None:
        issue = await self.issue(session)
        issue.issue_key = "DEMO-1"
        assert pending_update(issue) is None
