"""A job's last write and its being done in one statement: built once per write, refused when a
parameter of the write is named as a column of the jobs (SQLAlchemy would set it there too)."""

from __future__ import annotations

import pytest
from sqlalchemy import Update, bindparam, update
from sqlalchemy.dialects import postgresql

from app.core.db import table_of
from app.jobs.last_write import with_finish
from app.outgoing.models import EventDelivery


def write_setting(parameter: str) -> Update:
    deliveries = table_of(EventDelivery)
    return (
        update(deliveries)
        .where(deliveries.c.id == bindparam("delivery_id"))
        .values(last_error=bindparam(parameter))
        .returning(deliveries.c.id)
    )


@pytest.mark.parametrize("parameter", ["status", "attempts", "last_error", "kind"])
def test_a_parameter_named_as_a_column_of_the_jobs_is_refused(parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        with_finish(write_setting(parameter))


def test_the_write_and_the_finish_are_ctes_of_one_select() -> None:
    write = write_setting("error")
    statement = with_finish(write)
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert sql.startswith("WITH written AS")
    assert "UPDATE event_deliveries" in sql
    assert "UPDATE sync_jobs" in sql
    assert with_finish(write) is statement  # built once
