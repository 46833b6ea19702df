"""What the Jira integration adds to the app: its job kinds, and the helpdesk events it acts on
(an action to push as a comment, a JiraKey to link, an action type it still pushes)."""

from __future__ import annotations

from app.core.events import EventBus
from app.helpdesk.events import ActionCreated, ActionTypeDeleteRequested, JiraKeyRequested
from app.integration.events import IssueLinked
from app.integration.inbound import apply, prune, reconcile, refresh
from app.integration.instances import refuse_deleting_a_pushed_action_type
from app.integration.job_kinds import LinkTicket, PushComment
from app.integration.outbound import comments, late_writes, link, link_request
from app.jobs.kinds import JobRegistry


def register_jobs(registry: JobRegistry) -> None:
    registry.register(LinkTicket, link.run_link_ticket, link.on_link_failed)
    registry.register(PushComment, comments.run_push_comment, comments.on_push_failed)
    late_writes.register(registry)
    apply.register(registry)
    refresh.register(registry)
    prune.register(registry)
    reconcile.register(registry)


def subscribe(bus: EventBus) -> None:
    bus.subscribe(ActionCreated, comments.on_action_created)
    bus.subscribe(JiraKeyRequested, link_request.on_jira_key_requested)
    bus.subscribe(ActionTypeDeleteRequested, refuse_deleting_a_pushed_action_type)
    bus.subscribe(IssueLinked, refresh.on_issue_linked)
