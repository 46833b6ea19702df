"""CRM test helpers: an API key and a user with every right, set through the admin API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.crm.rights import ALL_RIGHTS

API_KEY = "crm-api-key-0123456789"
USER = "jira.admin"
CRM_PATH = "/plugins/servlet/crm/api"


class CrmApi:
    """Calls the command API as `USER` with `API_KEY` (both overridable per call)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def call(
        self,
        command: str,
        /,
        *,
        method: str = "GET",
        user: str | None = USER,
        key: str | None = API_KEY,
        **params: Any,
    ) -> httpx.Response:
        values = {"command": command, **params}
        if user is not None:
            values["userName"] = user
        if key is not None:
            values["apiKey"] = key
        if method == "POST":
            return await self.client.post(CRM_PATH, data=values)
        return await self.client.get(CRM_PATH, params=values)

    async def ok(self, command: str, **params: Any) -> dict[str, Any]:
        response = await self.call(command, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body["success"] is True
        return body

    async def url(self, path_and_query: str) -> httpx.Response:
        """An example URL of the seed, `${apiKey}` and `${userName}` filled in."""
        url = path_and_query.replace("${apiKey}", API_KEY).replace("${userName}", USER)
        return await self.client.get(url)

    async def admin(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = await self.client.request(method, f"/api/json/Crm{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else {}


@pytest.fixture
async def crm(client: httpx.AsyncClient) -> CrmApi:
    api = CrmApi(client)
    await api.admin("PUT", "/Settings", {"ApiKey": API_KEY})
    await api.admin("PUT", f"/Users/{USER}", {"Rights": list(ALL_RIGHTS)})
    return api
