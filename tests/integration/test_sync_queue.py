"""How the queue names a job's state, and the words a ticket's History uses for a job."""

from __future__ import annotations

import pytest

from app.integration.sync_queue import QueueStatus, describe_job, queue_status


@pytest.mark.parametrize(
    ("status", "attempts", "expected"),
    [
        ("queued", 0, QueueStatus.QUEUED),
        ("queued", 3, QueueStatus.RETRYING),
        ("running", 1, QueueStatus.RUNNING),
        ("failed", 8, QueueStatus.FAILED),
        ("done", 1, None),
    ],
)
def test_queue_status(status: str, attempts: int, expected: QueueStatus | None) -> None:
    assert queue_status(status, attempts) == expected


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("jira.link_ticket", {"ticket_id": 1, "key": "DEMO-7"}, "link to DEMO-7"),
        ("jira.push_comment", {"ticket_id": 1, "action_id": 9}, "action 9 as a Jira comment"),
        ("jira.reconcile", {"instance_id": 1}, "jira.reconcile"),
    ],
)
def test_describe_job(kind: str, payload: dict[str, object], expected: str) -> None:
    assert describe_job(kind, payload) == expected
