"""`events.deliver`: signed, retried as the answer says, in order per ticket, never holding up
another subscription or the Jira sync."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.core.db import utcnow
from app.jobs.models import JobStatus
from app.jobs.runner import running_worker
from app.outgoing.job_kinds import DeliverEvent
from app.outgoing.models import EventDelivery, EventSubscription
from app.outgoing.sender import new_secret
from app.wiring import job_registry
from tests.support.helpdesk import API, create_ticket, get_ticket, ok
from tests.support.inbound import deliver, issue_updated, item
from tests.support.jobs import drain, jobs_of_kind, worker_writes_no_end
from tests.support.outgoing_fixtures import Switch, subscribe
from tests.support.receiver import Receiver
from tests.support.statements import statements_sent
from tests.support.world import ISSUE_ID, linked_world, seed_helpdesk


async def rows(app: Any) -> list[EventDelivery]:
    async with app.state.session_factory() as session:
        found = await session.scalars(select(EventDelivery).order_by(EventDelivery.id))
        return list(found.all())


async def subscribed_ticket(client: httpx.AsyncClient, receiver: Receiver) -> dict[str, Any]:
    """A ticket, and the receiver subscribed to its events."""
    await seed_helpdesk(client)
    ticket = await create_ticket(client)
    await subscribe(client, receiver)
    return ticket


async def rename(client: httpx.AsyncClient, ticket_id: int, name: str) -> None:
    await ok(await client.put(f"{API}/Tickets/{ticket_id}", json={"Name": name}))


class TestRetries:
    async def test_three_500s_then_the_fourth_try_with_the_same_id(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)
        receiver.script(500, 500, 500)
        await rename(events_client, ticket["ID"], "x")
        await drain(events_app)
        attempts = receiver.received()
        assert [a.answered for a in attempts] == [500, 500, 500, 200]
        assert len({a.webhook_id for a in attempts}) == 1
        assert all(a.verified for a in attempts)
        (delivery,) = await rows(events_app)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "Delivered",
            4,
            200,
        )

    async def test_retry_after_is_honoured(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)
        receiver.script(429, retry_after="120")
        before = utcnow()
        await rename(events_client, ticket["ID"], "x")
        await drain(events_app)  # the retry is not due yet
        (delivery,) = await rows(events_app)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "Pending",
            1,
            429,
        )
        assert delivery.next_attempt_at is not None
        assert delivery.next_attempt_at >= before + timedelta(seconds=120)
        assert len(receiver.received()) == 1

    async def test_a_4xx_fails_at_once(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)
        receiver.script(422)
        await rename(events_client, ticket["ID"], "x")
        await drain(events_app)
        (delivery,) = await rows(events_app)
        assert (delivery.status, delivery.attempts) == ("Failed", 1)
        assert len(receiver.received()) == 1

    async def test_out_of_time_it_fails(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)
        receiver.script(503)
        await rename(events_client, ticket["ID"], "x")
        async with events_app.state.session_factory() as session:
            await session.execute(update(EventDelivery).values(retry_until=utcnow()))
            await session.commit()
        await drain(events_app)
        (delivery,) = await rows(events_app)
        assert delivery.status == "Failed"
        assert delivery.last_error == (
            "Gave up after 1 attempts: The receiver answered HTTP 503; it will be tried again."
        )

    async def test_410_gone_turns_the_subscription_off(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await seed_helpdesk(events_client)
        ticket = await create_ticket(events_client)
        subscription = await subscribe(events_client, receiver)
        receiver.script(410)
        await rename(events_client, ticket["ID"], "x")
        await drain(events_app)
        answer = await ok(await events_client.get(f"{API}/EventSubscriptions/{subscription['ID']}"))
        assert answer["EventSubscription"]["Active"] is False
        assert answer["EventSubscription"]["InactiveReason"] == "The receiver answered 410 Gone."
        await rename(events_client, ticket["ID"], "y")
        await drain(events_app)
        assert [d.status for d in await rows(events_app)] == ["Failed"]  # nothing more queued


class TestOrder:
    async def test_events_about_one_ticket_arrive_in_order_across_retries(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)
        receiver.script(500, 500)
        for name in ("one", "two", "three"):
            await rename(events_client, ticket["ID"], name)
        await drain(events_app)
        names = [a.event["data"]["changes"][0]["To"] for a in receiver.delivered()]
        assert names == ["one", "two", "three"]


class TestIsolation:
    async def test_a_hanging_receiver_holds_up_neither_another_nor_the_jira_sync(
        self,
        events_client: httpx.AsyncClient,
        events_app: Any,
        receiver: Receiver,
        receiver_switch: Switch,
        session: Any,
    ) -> None:
        s = await linked_world(session, 6)
        hanging = Receiver(new_secret(), hold=asyncio.Event())
        receiver_switch.hosts["hanging.test"] = hanging
        await subscribe(events_client, hanging, Name="Hanging", URL="http://hanging.test/hook")
        await subscribe(events_client, receiver)
        # Few slots, so that a receiver taking more than its share would starve the others.
        ctx = events_app.state.worker_context
        tight = ctx.settings.model_copy(
            # (and no periodic reconcile: the world's issue is not in the simulator)
            update={
                "worker_concurrency": 2,
                "event_delivery_concurrency": 6,
                "reconcile_interval_seconds": 0,
            }
        )
        async with running_worker(replace(ctx, settings=tight), job_registry()):
            try:
                await self._while_one_hangs(events_client, s, receiver, hanging)
            finally:
                hanging.hold.set()
            await hanging.wait_for(lambda got: len(got) == 12)

    async def _while_one_hangs(
        self, client: httpx.AsyncClient, s: Any, receiver: Receiver, hanging: Receiver
    ) -> None:
        change = issue_updated(ISSUE_ID, "DEMO-1", [item("status", "To Do", "In Progress")])
        assert (await deliver(client, s.instance_id, change)).is_success
        # every linked ticket's event reaches the other receiver
        await receiver.wait_for(lambda got: len(got) == 6)
        # and a later Jira change still applies while it hangs
        later = issue_updated(
            ISSUE_ID, "DEMO-1", [item("status", "In Progress", "Done")], changelog_id=10200
        )
        assert (await deliver(client, s.instance_id, later)).is_success
        await receiver.wait_for(lambda got: len(got) == 12)
        assert (await get_ticket(client, s.tickets[0]))["Status"] == "Done"


def sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


class TestMetrics:
    async def test_sent_failed_and_latency_by_type(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)
        names = (
            ("outgoing_events_sent_total", {"type": "ticket.updated"}),
            ("outgoing_events_failed_total", {"type": "ticket.updated"}),
            ("outgoing_event_latency_seconds_count", {"type": "ticket.updated"}),
            ("outgoing_event_attempts_total", {"type": "ticket.updated", "outcome": "retry"}),
        )
        before = [sample(name, **labels) for name, labels in names]
        receiver.script(500)
        await rename(events_client, ticket["ID"], "sent")
        await drain(events_app)
        receiver.script(400)
        await rename(events_client, ticket["ID"], "refused")
        await drain(events_app)
        after = [sample(name, **labels) for name, labels in names]
        assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1, 1]
        exposed = (await events_client.get("/metrics")).text
        assert 'outgoing_events_sent_total{type="ticket.updated"}' in exposed


class TestAnEventAlone:
    async def test_is_read_with_whether_a_job_waits_behind_it_in_one_statement(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        """Nothing queued behind it: no job is looked for behind it (and on PostgreSQL the read
        commits on its own, in no transaction)."""
        ticket = await subscribed_ticket(events_client, receiver)
        await rename(events_client, ticket["ID"], "x")

        with statements_sent(events_app.state.engine) as sent:
            await drain(events_app)

        (delivery,) = await rows(events_app)
        assert delivery.status == "Delivered"
        assert len(receiver.delivered()) == 1
        reads = [sql for sql in sent if sql.startswith("SELECT") and "FROM event_deliveries" in sql]
        assert len(reads) == 1
        looked_behind = [
            sql for sql in sent if sql.startswith("SELECT sync_jobs.") and "sync_jobs.id >" in sql
        ]
        assert looked_behind == []

    async def test_its_outcome_and_its_job_done_are_one_statement_on_postgresql(
        self,
        events_client: httpx.AsyncClient,
        events_app: Any,
        receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Committing on its own, with no BEGIN and COMMIT around it (elsewhere a transaction
        of two); the job is done by it, not by the worker after it."""
        ticket = await subscribed_ticket(events_client, receiver)
        await rename(events_client, ticket["ID"], "x")
        worker_writes_no_end(monkeypatch)

        with statements_sent(events_app.state.engine) as sent:
            await drain(events_app)

        (delivery,) = await rows(events_app)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "Delivered",
            1,
            200,
        )
        jobs = await jobs_of_kind(events_app, DeliverEvent.kind)
        assert [job.status for job in jobs] == [JobStatus.DONE]
        (outcome,) = [sql for sql in sent if "UPDATE event_deliveries" in sql]
        on_postgres = events_app.state.engine.dialect.name == "postgresql"
        assert ("UPDATE sync_jobs" in outcome) == on_postgres


class TestABurstSentTogether:
    """The events about one ticket queued together are sent by one job, in order, each as its
    own job would send it; one to be tried again ends the run, and waits for its next attempt
    with those after it behind it."""

    async def burst(self, client: httpx.AsyncClient, receiver: Receiver) -> None:
        ticket = await subscribed_ticket(client, receiver)
        for n in range(4):
            await rename(client, ticket["ID"], f"name {n}")

    async def outcome(self, app: Any, receiver: Receiver) -> list[tuple[str, int, int]]:
        """Each event's job status and attempts, and its delivery's attempts; checked: each
        delivered once, in order, under one webhook-id of its own."""
        names = [a.event["data"]["changes"][0]["To"] for a in receiver.delivered()]
        assert names == [f"name {n}" for n in range(4)]
        deliveries = await rows(app)
        assert [d.status for d in deliveries] == ["Delivered"] * 4
        assert [a.webhook_id for a in receiver.delivered()] == [d.event_id for d in deliveries]
        jobs = await jobs_of_kind(app, DeliverEvent.kind)
        return [
            (job.status, job.attempts, delivery.attempts)
            for job, delivery in zip(jobs, deliveries, strict=True)
        ]

    async def test_by_one_job_each_once(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        await self.burst(events_client, receiver)
        assert await drain(events_app) == 1
        assert await self.outcome(events_app, receiver) == [(JobStatus.DONE, 1, 1)] * 4
        assert len(receiver.received()) == 4

    @pytest.mark.parametrize(
        ("answers", "expected"),
        [
            # those before it done; it tried again after its delay; those after it sent then
            ((200, 500), [(1, 1), (2, 2), (1, 1), (1, 1)]),
            # the job's own: the job is retried, the others wait for it untried
            ((500,), [(2, 2), (1, 1), (1, 1), (1, 1)]),
        ],
        ids=["a later one answers 500", "the first answers 500"],
    )
    async def test_when_one_is_to_be_tried_again(
        self,
        events_client: httpx.AsyncClient,
        events_app: Any,
        receiver: Receiver,
        answers: tuple[int, ...],
        expected: list[tuple[int, int]],
    ) -> None:
        await self.burst(events_client, receiver)
        receiver.script(*answers)
        assert await drain(events_app) == 2  # the first run, then the one tried again with the rest
        assert await self.outcome(events_app, receiver) == [
            (JobStatus.DONE, job, delivery) for job, delivery in expected
        ]
        assert len(receiver.received()) == 5

    async def test_when_sending_a_later_one_crashes(
        self,
        events_client: httpx.AsyncClient,
        events_app: Any,
        receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The one before it is recorded and done; it runs on its own with its attempt counted
        (no answer: nothing recorded for it), those after it behind it."""
        await self.burst(events_client, receiver)
        sender = events_app.state.services.events
        send = sender.send
        calls = 0

        async def second_crashes(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise RuntimeError("a bug")
            return await send(*args, **kwargs)

        monkeypatch.setattr(sender, "send", second_crashes)
        assert await drain(events_app) == 2
        assert await self.outcome(events_app, receiver) == [
            (JobStatus.DONE, 1, 1),
            (JobStatus.DONE, 2, 1),
            (JobStatus.DONE, 1, 1),
            (JobStatus.DONE, 1, 1),
        ]


class TestDone:
    """A delivery's job is done in the transaction that writes its outcome: the worker has
    nothing more to write for it (no transaction of its own to end it)."""

    @pytest.fixture(autouse=True)
    def no_end_by_the_worker(self, monkeypatch: pytest.MonkeyPatch) -> None:
        worker_writes_no_end(monkeypatch)

    async def deliver_one(
        self, client: httpx.AsyncClient, app: Any, receiver: Receiver
    ) -> tuple[EventDelivery, list[str]]:
        ticket = await subscribed_ticket(client, receiver)
        await rename(client, ticket["ID"], "x")
        await drain(app)
        (delivery,) = await rows(app)
        return delivery, [job.status for job in await jobs_of_kind(app, DeliverEvent.kind)]

    async def test_a_delivered_event(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        delivery, statuses = await self.deliver_one(events_client, events_app, receiver)
        assert (delivery.status, statuses) == ("Delivered", [JobStatus.DONE])

    async def test_a_refused_event(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        receiver.script(400)
        delivery, statuses = await self.deliver_one(events_client, events_app, receiver)
        assert (delivery.status, statuses) == ("Failed", [JobStatus.DONE])

    async def test_an_event_for_a_subscription_turned_off(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)
        await rename(events_client, ticket["ID"], "x")
        async with events_app.state.session_factory() as session:
            await session.execute(update(EventSubscription).values(active=False))
            await session.commit()
        await drain(events_app)
        (delivery,) = await rows(events_app)
        statuses = [job.status for job in await jobs_of_kind(events_app, DeliverEvent.kind)]
        assert (delivery.status, statuses) == ("Failed", [JobStatus.DONE])

    async def test_an_event_to_try_again_is_not_done(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        receiver.script(429, retry_after="120")
        delivery, statuses = await self.deliver_one(events_client, events_app, receiver)
        assert (delivery.status, statuses) == ("Pending", [JobStatus.QUEUED])


class TestBroken:
    async def test_a_secret_this_secret_key_cannot_open_fails_the_delivery(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)
        async with events_app.state.session_factory() as session:
            await session.execute(update(EventSubscription).values(secret_encrypted="garbage"))
            await session.commit()
        await rename(events_client, ticket["ID"], "x")
        await drain(events_app)
        (delivery,) = await rows(events_app)
        assert delivery.status == "Failed"
        assert delivery.last_error == (
            "The subscription's Secret cannot be decrypted with this SECRET_KEY."
        )
        assert receiver.received() == []

    async def test_a_delivery_whose_job_keeps_crashing_ends_failed(
        self,
        events_client: httpx.AsyncClient,
        events_app: Any,
        receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        ticket = await subscribed_ticket(events_client, receiver)

        async def broken(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(events_app.state.services.events, "send", broken)
        await rename(events_client, ticket["ID"], "x")
        await drain(events_app)
        (delivery,) = await rows(events_app)
        assert delivery.status == "Failed"
        assert delivery.last_error == "Gave up after 8 attempts: RuntimeError: a bug"


class TestRaces:
    async def test_an_outcome_is_not_written_over_an_attempt_that_ended_meanwhile(
        self,
        events_client: httpx.AsyncClient,
        events_app: Any,
        receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A run of the job that lost its lease while the receiver answered: the run that took
        it over has written its attempt (a 503) by the time this one's 204 comes back."""
        ticket = await subscribed_ticket(events_client, receiver)
        sender = events_app.state.services.events
        send = sender.send

        async def answered_after_another_attempt(*args: Any, **kwargs: Any) -> Any:
            answer = await send(*args, **kwargs)
            async with events_app.state.session_factory() as session:
                await session.execute(
                    update(EventDelivery).values(
                        attempts=EventDelivery.attempts + 1, last_status_code=503
                    )
                )
                await session.commit()
            return answer

        monkeypatch.setattr(sender, "send", answered_after_another_attempt)
        await rename(events_client, ticket["ID"], "x")
        await drain(events_app)
        (delivery,) = await rows(events_app)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "Pending",
            1,
            503,
        )


class TestSecrets:
    async def test_the_secret_is_never_logged(
        self, events_client: httpx.AsyncClient, events_app: Any, receiver: Receiver
    ) -> None:
        from structlog.testing import capture_logs

        await seed_helpdesk(events_client)
        ticket = await create_ticket(events_client)
        with capture_logs() as logs:
            subscription = await subscribe(events_client, receiver)
            await events_client.post(f"{API}/EventSubscriptions/{subscription['ID']}/Test")
            receiver.script(500)
            await rename(events_client, ticket["ID"], "x")
            await drain(events_app)
        assert any(log["event"] == "sync.job.retry" for log in logs)
        key = receiver.secret.removeprefix("whsec_")
        assert not [log for log in logs if key in repr(log)]
