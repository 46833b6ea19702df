"""What outgoing events add to the app: their job kind (in a worker lane of its own) and the
domain events they are made from."""

from __future__ import annotations

from app.core.events import EventBus
from app.helpdesk.events import ActionCreated, TicketsChanged, TicketsChanging
from app.integration.events import JiraActionsAdded
from app.jobs.kinds import JobRegistry
from app.outgoing import prune
from app.outgoing.deliver import on_deliver_failed, run_deliver
from app.outgoing.emit import EmitOptions, Emitter
from app.outgoing.job_kinds import EVENTS_LANE, DeliverEvent


def register_jobs(registry: JobRegistry) -> None:
    registry.add_lane(EVENTS_LANE, lambda settings: settings.event_delivery_concurrency)
    registry.register(DeliverEvent, run_deliver, on_deliver_failed)
    prune.register(registry)


def subscribe(bus: EventBus, options: EmitOptions) -> None:
    emitter = Emitter(options)
    bus.subscribe(TicketsChanging, emitter.on_tickets_changing)
    bus.subscribe(TicketsChanged, emitter.on_tickets_changed)
    bus.subscribe(ActionCreated, emitter.on_action_created)
    bus.subscribe(JiraActionsAdded, emitter.on_jira_actions_added)
