from __future__ import annotations

import time

import httpx
import pytest

from jirasim import JiraSimulator

ISSUE = {
    "fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "retry me"}
}


class TestFaults:
    async def test_500_n_times_then_ok(self, sim: JiraSimulator, client: httpx.AsyncClient) -> None:
        sim.add_fault("GET", r"^/rest/api/2/myself$", status=500, times=2)
        statuses = [(await client.get("/rest/api/2/myself")).status_code for _ in range(3)]
        assert statuses == [500, 500, 200]
        failed = sim.requests[0]
        assert failed.status == 500
        assert failed.fault_id is not None

    async def test_jira_like_error_body(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault(path="myself", status=503)
        r = await client.get("/rest/api/2/myself")
        assert r.json() == {"errorMessages": ["Service Unavailable"], "errors": {}}

    async def test_429_with_retry_after_and_reason(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault(
            "POST",
            "/issue$",
            status=429,
            retry_after=7,
            rate_limit_reason="jira-per-issue-on-write",
        )
        r = await client.post("/rest/api/2/issue", json=ISSUE)
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "7"
        assert r.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
        assert sim.state.issues == {}

    async def test_429_without_retry_after(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault(path="myself", status=429)
        r = await client.get("/rest/api/2/myself")
        assert r.status_code == 429
        assert "Retry-After" not in r.headers

    async def test_cloud_names_the_burst_limit_when_a_429_names_none(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault(path="myself", status=429)
        r = await client.get("/rest/api/2/myself")
        assert r.headers["RateLimit-Reason"] == "jira-burst-based"

    @pytest.mark.parametrize("jira_flavor", ["server"])
    async def test_server_names_no_limit(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault(path="myself", status=429)
        r = await client.get("/rest/api/2/myself")
        assert "RateLimit-Reason" not in r.headers

    async def test_apply_then_fail_creates_once(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault("POST", r"/rest/api/2/issue$", status=500, after_write=True)
        r = await client.post("/rest/api/2/issue", json=ISSUE)
        assert r.status_code == 500
        assert [i.key for i in sim.state.issues.values()] == ["DEMO-1"]
        found = await client.get("/rest/api/2/search/jql", params={"jql": 'summary ~ "retry me"'})
        assert len(found.json()["issues"]) == 1

    async def test_apply_then_drop_in_process_is_a_transport_error(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault("POST", r"/issue$", drop=True, after_write=True)
        with pytest.raises(httpx.TransportError):
            await client.post("/rest/api/2/issue", json=ISSUE)
        assert len(sim.state.issues) == 1
        assert sim.requests[-1].dropped is True

    async def test_dropped_connection_without_write(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault("POST", r"/issue$", drop=True)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/rest/api/2/issue", json=ISSUE)
        assert sim.state.issues == {}

    async def test_delay_is_a_slow_answer(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault(path="myself", delay=0.05)
        started = time.monotonic()
        r = await client.get("/rest/api/2/myself")
        assert r.status_code == 200
        assert time.monotonic() - started >= 0.05

    async def test_time_window_and_clear(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_fault(path="myself", status=502, times=None, duration=60)
        assert [(await client.get("/rest/api/2/myself")).status_code for _ in range(3)] == [502] * 3
        sim.clear_faults()
        assert (await client.get("/rest/api/2/myself")).status_code == 200


class TestControlApi:
    async def test_faults_and_request_record_over_http(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/_sim/faults", json={"method": "GET", "path": "serverInfo", "status": 500, "times": 1}
        )
        assert r.status_code == 201
        assert (await client.get("/rest/api/2/serverInfo")).status_code == 500
        assert (await client.get("/rest/api/2/serverInfo", params={"a": "b"})).status_code == 200
        record = (await client.get("/_sim/requests")).json()
        assert [(e["path"], e["status"], e["authScheme"]) for e in record] == [
            ("/rest/api/2/serverInfo", 500, "Basic"),
            ("/rest/api/2/serverInfo", 200, "Basic"),
        ]
        assert record[1]["query"] == {"a": "b"}
        assert record[1]["authUser"] == "integration@example.com"
        assert (await client.delete("/_sim/requests")).status_code == 204
        assert (await client.get("/_sim/requests")).json() == []

    async def test_bad_fault_option_is_400(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/_sim/faults", json={"colour": "red"})
        assert r.status_code == 400

    async def test_request_record_keeps_json_body(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        await client.post("/rest/api/2/issue", json=ISSUE)
        assert sim.requests[-1].json == ISSUE
        assert sim.requests[-1].status == 201

    async def test_ui_actions_and_reset(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        r = await client.post("/_sim/issues", json={"project": "DEMO", "summary": "from the UI"})
        assert r.json()["key"] == "DEMO-1"
        r = await client.post("/_sim/issues/DEMO-1/transition", json={"status": "Done"})
        assert r.json()["fields"]["status"]["name"] == "Done"
        r = await client.post("/_sim/issues/DEMO-1/edit", json={"fields": {"Severity": "High"}})
        assert r.json()["fields"]["customfield_10010"]["value"] == "High"
        r = await client.post(
            "/_sim/issues/DEMO-1/comments",
            json={"body": "hi", "user": "jdoe", "visibility": {"type": "role", "value": "Users"}},
        )
        assert r.json()["author"]["displayName"] == "John Doe"
        r = await client.post("/_sim/issues/DEMO-1/move", json={"project": "SUP"})
        assert r.json()["key"] == "SUP-1"
        assert (await client.post("/_sim/reset")).status_code == 204
        assert sim.state.issues == {}
        assert sim.requests == []

    async def test_control_api_plays_server_and_service_management(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        try:
            assert (await client.post("/_sim/reset", json={"flavor": "server"})).status_code == 204
            assert sim.flavor == "server"
            assert (await client.post("/rest/api/2/search/jql", json={})).status_code == 404
            r = await client.post(
                "/_sim/projects", json={"key": "HELP", "projectTypeKey": "service_desk"}
            )
            assert r.json()["projectTypeKey"] == "service_desk"
            await client.post("/_sim/issues", json={"project": "HELP", "summary": "x"})
            r = await client.post(
                "/_sim/issues/HELP-1/comments", json={"body": "note", "internal": True}
            )
            assert sim.issue("HELP-1").comments[0].internal
            r = await client.post("/_sim/users", json={"name": "bot", "accountType": "app"})
            assert sim.state.users["bot"].account_type == "app"
            bad = await client.post("/_sim/reset", json={"flavor": "onprem"})
            assert bad.status_code == 400
        finally:
            await client.post("/_sim/reset", json={"flavor": "cloud"})
