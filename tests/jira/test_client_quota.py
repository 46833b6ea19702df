"""Jira Cloud's points-based quota: a quota 429 pauses every call to that Jira until the time
Jira gave, instead of each call (each job) discovering it on its own."""

from __future__ import annotations

import httpx
import pytest
import respx
from prometheus_client import CollectorRegistry

from app.jira.errors import JiraRateLimited
from app.jira.pacing import QuotaPause
from tests.jira.conftest import FakeClock, MakeClient, RecordingSleep


def quota(seconds: str, reason: str = "jira-quota-tenant-based") -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": seconds, "RateLimit-Reason": reason})


class TestQuotaPause:
    async def test_every_call_waits_out_a_short_pause_and_jira_is_not_asked_meanwhile(
        self,
        make_client: MakeClient,
        router: respx.MockRouter,
        sleeps: RecordingSleep,
        clock: FakeClock,
        registry: CollectorRegistry,
    ) -> None:
        pauses: list[QuotaPause] = []

        async def told(pause: QuotaPause) -> None:
            pauses.append(pause)

        client = make_client(on_pause=told)
        me = router.get("/rest/api/2/myself").mock(
            side_effect=[quota("20"), httpx.Response(200, json={"name": "me"})]
        )
        fields = router.get("/rest/api/2/field").respond(json=[])
        assert (await client.myself()).name == "me"
        assert sleeps.calls == [20.0]  # once, by the pause: not again by the retry
        assert me.call_count == 2
        assert [(p.reason, p.seconds) for p in pauses] == [("jira-quota-tenant-based", 20.0)]
        labels = {"reason": "jira-quota-tenant-based"}
        assert registry.get_sample_value("jira_quota_pauses_total", labels) == 1
        assert registry.get_sample_value(
            "jira_paused_until_timestamp_seconds", {"host": "jira.example.com"}
        )
        await client.fields()  # the pause is over: no wait
        assert (sleeps.calls, fields.call_count) == ([20.0], 1)

    async def test_a_long_pause_refuses_every_other_call_unsent_until_it_ends(
        self,
        make_client: MakeClient,
        router: respx.MockRouter,
        sleeps: RecordingSleep,
        clock: FakeClock,
    ) -> None:
        client = make_client()
        router.post("/rest/api/2/issue/ABC-1/comment").mock(side_effect=[quota("600")])
        other = router.get("/rest/api/2/field").respond(json=[])
        with pytest.raises(JiraRateLimited) as first:
            await client.add_comment("ABC-1", "x")
        assert (first.value.retry_after, first.value.reason) == (600.0, "jira-quota-tenant-based")
        clock.now += 100
        with pytest.raises(JiraRateLimited) as held:
            await client.fields()  # another endpoint, another job: held all the same
        assert held.value.retry_after == pytest.approx(500.0)
        assert "paused for another 500 s" in held.value.message
        assert other.call_count == 0
        clock.now += 500
        assert await client.fields() == []
        assert other.call_count == 1
        assert sleeps.calls == []

    async def test_each_pause_is_told_once(
        self, make_client: MakeClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        pauses: list[QuotaPause] = []

        async def told(pause: QuotaPause) -> None:
            pauses.append(pause)

        client = make_client(on_pause=told)
        router.get("/rest/api/2/myself").mock(
            side_effect=[quota("600"), quota("900", "jira-quota-global-based")]
        )
        for _ in range(3):  # the first starts the pause, the others are held by it
            with pytest.raises(JiraRateLimited):
                await client.myself()
        clock.now += 600
        with pytest.raises(JiraRateLimited):
            await client.myself()  # sent again after the pause, and refused again: a new one
        assert [(p.reason, p.seconds) for p in pauses] == [
            ("jira-quota-tenant-based", 600.0),
            ("jira-quota-global-based", 900.0),
        ]

    @pytest.mark.parametrize("reason", ["jira-burst-based", None])
    async def test_a_burst_429_delays_that_call_only(
        self,
        make_client: MakeClient,
        router: respx.MockRouter,
        sleeps: RecordingSleep,
        reason: str | None,
    ) -> None:
        client = make_client()
        headers = {"Retry-After": "600"} | ({"RateLimit-Reason": reason} if reason else {})
        router.get("/rest/api/2/myself").mock(side_effect=[httpx.Response(429, headers=headers)])
        other = router.get("/rest/api/2/field").respond(json=[])
        with pytest.raises(JiraRateLimited):
            await client.myself()
        assert await client.fields() == []
        assert (other.call_count, sleeps.calls) == (1, [])
