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


class RecordingNotifier:
    sender = None

    def __init__(self) -> None:
        self.sent: list[set[str]] = []

    def send(self, names: set[str]) -> None:
        self.sent.append(set(names))


def test_a_commit_wakes_local_workers_and_tells_the_notifier() -> None:
    """The process's own workers are woken at once, in memory; the other processes' through the
    notifier (whose NOTIFY this process does not hear again: `listen_forever`)."""
    waker = Waker()
    worker = waker.channel()
    notifier = RecordingNotifier()
    waker.notifier = notifier  # type: ignore[assignment]

    waker.committed(["jira.apply_webhook", "events.deliver"])

    assert worker.is_set()
    assert notifier.sent == [{"jira.apply_webhook", "events.deliver"}]
