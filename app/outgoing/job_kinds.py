"""The outgoing events' job kind: one delivery of one event to one subscription."""

from __future__ import annotations

from app.jobs.kinds import JobPayload

EVENTS_LANE = "events"


def delivery_ordering_key(subscription_id: int, ticket_id: int | None, buckets: int) -> str | None:
    """Events about one ticket reach one subscription in order: they share a key (jobs with one
    key run one at a time, oldest first). A subscription's tickets are spread over `buckets`
    keys, so it has at most that many deliveries in flight: a slow receiver never takes every
    slot of the events lane."""
    if ticket_id is None:
        return None
    return f"events:{subscription_id}:{ticket_id % max(buckets, 1)}"


class DeliverEvent(JobPayload):
    kind = "events.deliver"
    lane = EVENTS_LANE
    retries_until_permanent = True  # until the delivery's retry_until (EVENT_RETRY_HOURS)
    delivery_id: int
    subscription_id: int
    ticket_id: int | None = None
    buckets: int = 1

    def ordering_key(self) -> str | None:
        return delivery_ordering_key(self.subscription_id, self.ticket_id, self.buckets)
