"""The Jira integration's job kinds and their payloads: the contract between a change and the
work it asks for. Jobs about one ticket run in order, and so do jobs about one Jira issue."""

from __future__ import annotations

from datetime import datetime

from app.jira.deliveries import ParsedDelivery
from app.jobs.kinds import JobPayload, PeriodicPayload


def ticket_ordering_key(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def issue_ordering_key(instance_id: int, issue_id: str) -> str:
    return f"issue:{instance_id}:{issue_id}"


class LinkTicket(JobPayload):
    """Link a ticket to an existing issue (`key`), or create one (`key` = NewJiraIssue)."""

    kind = "jira.link_ticket"
    ticket_id: int
    key: str
    instance_id: int | None = None

    def ordering_key(self) -> str:
        return ticket_ordering_key(self.ticket_id)


class PushComment(JobPayload):
    """An action becomes a Jira comment."""

    kind = "jira.push_comment"
    ticket_id: int
    action_id: int

    def ordering_key(self) -> str:
        return ticket_ordering_key(self.ticket_id)


class CheckLateComment(JobPayload):
    """After a comment was added again because an earlier attempt's answer was lost: remove any
    copy of it Jira applied late, keeping `kept_comment_id`."""

    kind = "jira.check_late_comment"
    ticket_id: int
    action_id: int
    instance_id: int
    issue_id: str
    issue_key: str
    kept_comment_id: str

    def ordering_key(self) -> str:
        return ticket_ordering_key(self.ticket_id)


class CheckLateIssue(JobPayload):
    """After an issue was created again because an earlier attempt's answer was lost: report
    any issue Jira created late for the same link job beside `kept_issue_id`."""

    kind = "jira.check_late_issue"
    ticket_id: int
    link_job_id: int
    instance_id: int
    project_key: str
    summary: str
    kept_issue_id: str
    kept_issue_key: str

    def ordering_key(self) -> str:
        return ticket_ordering_key(self.ticket_id)


class ApplyWebhook(JobPayload):
    """Apply a stored Jira webhook delivery to the tickets linked to its issue, as the receiver
    parsed it."""

    kind = "jira.apply_webhook"
    delivery_id: int
    # The delivery's issue, and what it says; absent only in jobs queued before payloads carried
    # them (those read the stored body).
    instance_id: int | None = None
    issue_id: str | None = None
    parsed: ParsedDelivery | None = None

    def ordering_key(self) -> str | None:
        if self.instance_id is None or self.issue_id is None:
            return None
        return issue_ordering_key(self.instance_id, self.issue_id)


class RefreshIssue(JobPayload):
    """Fetch one issue and apply its current state; with `linked_since` (when the link was asked
    for), deliveries about it that came before the link existed are replayed."""

    kind = "jira.refresh_issue"
    instance_id: int
    issue_id: str
    linked_since: datetime | None = None

    def ordering_key(self) -> str:
        return issue_ordering_key(self.instance_id, self.issue_id)


class Reconcile(JobPayload):
    """Re-read one instance's linked issues changed since the last run."""

    kind = "jira.reconcile"
    instance_id: int

    def ordering_key(self) -> str:
        return f"reconcile:{self.instance_id}"


class ReconcileAll(PeriodicPayload):
    kind = "jira.reconcile_all"


class PruneDeliveries(PeriodicPayload):
    kind = "maintenance.prune_webhook_deliveries"
