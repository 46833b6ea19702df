from __future__ import annotations

import httpx
import pytest

from jirasim import JiraSimulator

from .conftest import AUTH


class TestRealServer:
    async def test_serves_rest_control_and_drops_connections(self, sim: JiraSimulator) -> None:
        async with (
            sim.serve() as server,
            httpx.AsyncClient(base_url=server.base_url, auth=AUTH) as c,
        ):
            assert server.base_url.startswith("http://127.0.0.1:")
            r = await c.get("/rest/api/2/myself")
            assert r.status_code == 200
            assert r.json()["self"].startswith(server.base_url)

            fault = {"method": "POST", "path": "/issue$", "drop": True, "after_write": True}
            assert (await c.post("/_sim/faults", json=fault)).status_code == 201
            body = {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"},
                               "summary": "dropped"}}  # fmt: skip
            with pytest.raises(httpx.RemoteProtocolError):
                await c.post("/rest/api/2/issue", json=body)
            assert [i.key for i in sim.state.issues.values()] == ["DEMO-1"]

            r = await c.get("/rest/api/2/issue/DEMO-1")
            assert r.json()["self"] == f"{server.base_url}/rest/api/2/issue/10000"
            record = (await c.get("/_sim/requests")).json()
            assert [e["dropped"] for e in record] == [False, True, False]
        assert sim.base_url == "http://jira.test"
