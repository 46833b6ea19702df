from __future__ import annotations

import httpx
import pytest

from jirasim import JiraSimulator

from .conftest import BASE_URL


def anonymous(sim: JiraSimulator, **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app),
        base_url=BASE_URL,
        **kwargs,  # type: ignore[arg-type]
    )


class TestAuthentication:
    @pytest.mark.parametrize("name", ["integration@example.com", "integration"])
    async def test_basic_with_email_or_name_and_token(self, sim: JiraSimulator, name: str) -> None:
        async with anonymous(sim, auth=(name, "demo-token")) as c:
            r = await c.get("/rest/api/2/myself")
        assert r.status_code == 200
        assert r.json()["emailAddress"] == "integration@example.com"
        assert r.json()["self"].startswith(f"{BASE_URL}/rest/api/2/user?accountId=")

    async def test_bearer_personal_access_token(self, sim: JiraSimulator) -> None:
        async with anonymous(sim, headers={"Authorization": "Bearer demo-token"}) as c:
            r = await c.get("/rest/api/2/myself")
        assert r.status_code == 200
        assert r.json()["displayName"] == "Helpdesk Integration"
        assert sim.requests[-1].auth_scheme == "Bearer"

    async def test_wrong_token_is_401_with_jira_body(self, sim: JiraSimulator) -> None:
        async with anonymous(sim, auth=("integration@example.com", "nope")) as c:
            r = await c.get("/rest/api/2/myself")
        assert r.status_code == 401
        assert r.json()["errorMessages"]
        assert r.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"

    async def test_missing_auth_is_401(self, sim: JiraSimulator) -> None:
        async with anonymous(sim) as c:
            r = await c.get("/rest/api/2/project")
        assert r.status_code == 401
        assert r.json() == {
            "errorMessages": [
                "You are not authenticated. Authentication required to perform this operation."
            ],
            "errors": {},
        }

    async def test_bad_bearer_is_401(self, sim: JiraSimulator) -> None:
        async with anonymous(sim, headers={"Authorization": "Bearer wrong"}) as c:
            assert (await c.get("/rest/api/2/myself")).status_code == 401


class TestPermissions:
    async def test_all_granted_by_default(self, client: httpx.AsyncClient) -> None:
        r = await client.get(
            "/rest/api/2/mypermissions", params={"permissions": "LINK_ISSUES,CREATE_ISSUES"}
        )
        perms = r.json()["permissions"]
        assert perms["LINK_ISSUES"]["havePermission"] is True
        assert perms["CREATE_ISSUES"] == {**perms["CREATE_ISSUES"], "key": "CREATE_ISSUES"}

    async def test_revoked_permission_is_reported_and_enforced(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.revoke_permissions("integration", "LINK_ISSUES")
        issue = sim.create_issue("DEMO", "x")
        r = await client.get("/rest/api/2/mypermissions", params={"permissions": "LINK_ISSUES"})
        assert r.json()["permissions"]["LINK_ISSUES"]["havePermission"] is False
        link = {"object": {"url": "https://hd/1", "title": "T1"}}
        r = await client.post(f"/rest/api/2/issue/{issue.key}/remotelink", json=link)
        assert r.status_code == 403

    async def test_server_info(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/rest/api/2/serverInfo")
        assert r.json()["deploymentType"] == "Cloud"
        assert r.json()["baseUrl"] == BASE_URL
