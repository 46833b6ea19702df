"""Wakes name the kinds of the jobs committed; a waiter is woken only for kinds it takes."""

from __future__ import annotations

import pytest

from app.jobs.wakeup import Waker, kinds_notified


def test_a_channel_is_woken_by_its_kinds_and_by_wakes_naming_none() -> None:
    waker = Waker()
    events = waker.channel(lambda kind: kind == "events.deliver")
    default = waker.channel(lambda kind: kind != "events.deliver")

    waker.wake(["jira.apply_webhook"])
    assert (events.is_set(), default.is_set()) == (False, True)

    default.clear()
    waker.wake(["events.deliver", "jira.push_comment"])
    assert (events.is_set(), default.is_set()) == (True, True)

    events.clear()
    default.clear()
    waker.wake()
    assert (events.is_set(), default.is_set()) == (True, True)


@pytest.mark.parametrize(
    ("payload", "kinds"),
    [
        ("", None),
        ("jira.apply_webhook", ["jira.apply_webhook"]),
        ("events.deliver,jira.push_comment", ["events.deliver", "jira.push_comment"]),
        (",", None),
    ],
)
def test_the_kinds_a_notification_names(payload: str, kinds: list[str] | None) -> None:
    assert kinds_notified(payload) == kinds


def test_a_commit_wakes_local_workers_unless_the_notify_will() -> None:
    """While the process LISTENs, its own commits are heard of by NOTIFY: no second wake."""
    waker = Waker()
    worker = waker.channel()

    waker.committed(["jira.apply_webhook"])
    assert worker.is_set()

    worker.clear()
    waker.listening = True
    waker.committed(["jira.apply_webhook"])
    assert not worker.is_set()
