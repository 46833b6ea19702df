"""The CRM screen in process: the write-only API key, users with a rights matrix, dictionaries,
tables, and companies found by name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.console.conftest import console_client, csrf_of, signed_in_client
from tests.support.helpdesk import API, ok

KEY = "crm-api-key-0123456789abcdef"


@pytest.fixture
async def console(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with console_client(app) as client:
        await signed_in_client(client)
        yield client


async def post(console: httpx.AsyncClient, path: str, data: Any) -> httpx.Response:
    csrf = await csrf_of(console, "/console/crm")
    return await console.post(path, data={"csrf_token": csrf, **data})


async def test_the_api_key_is_write_only(
    console: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    assert "No API key set yet" in (await console.get("/console/crm")).text
    await post(console, "/console/crm/api-key", {"api_key": KEY})
    page = (await console.get("/console/crm")).text
    assert "An API key is set" in page
    assert KEY not in page
    settings = (await ok(await client.get(f"{API}/Crm/Settings")))["Settings"]
    assert settings["ApiKeySet"] is True


async def test_a_short_api_key_is_refused_in_the_apis_words(console: httpx.AsyncClient) -> None:
    response = await post(console, "/console/crm/api-key", {"api_key": "short"})
    assert response.status_code == 400
    assert "ApiKey must be at least" in response.text


async def test_rights_matrix(console: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await post(
        console,
        "/console/crm/users",
        {"user_name": "alice", "rights": ["CRM Main Menu", "Add companies"]},
    )
    user = (await ok(await client.get(f"{API}/Crm/Users/alice")))["User"]
    assert user["Rights"] == ["CRM Main Menu", "Add companies"]
    page = (await console.get("/console/crm")).text
    assert 'value="Add companies" aria-labelledby="user-1 right-2" checked' in page
    await post(console, "/console/crm/users", {"user_name": "alice", "rights": ["Edit contacts"]})
    user = (await ok(await client.get(f"{API}/Crm/Users/alice")))["User"]
    assert user["Rights"] == ["Edit contacts"]
    await post(console, "/console/crm/users/delete", {"user_name": "alice"})
    assert (await client.get(f"{API}/Crm/Users/alice")).status_code == 404


async def test_dictionaries_and_tables(
    console: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await post(
        console,
        "/console/crm/dictionaries",
        {"dictionary_name": "Colours", "dictionary_values": "Red\nGreen\n"},
    )
    page = (await console.get("/console/crm")).text
    assert "<td>Red, Green</td>" in page
    assert "(CLIENTS)" in page
    dictionary = (await ok(await client.get(f"{API}/Crm/Dictionaries/Colours")))["Dictionary"]
    assert dictionary["Values"] == ["Red", "Green"]


async def test_companies_found_by_name(
    console: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await ok(await client.put(f"{API}/Crm/Settings", json={"ApiKey": KEY}))
    await ok(await client.put(f"{API}/Crm/Users/bot", json={"Rights": ["Add companies"]}))
    for name in ("Acme Corp", "Globex", "<b>Initech</b>"):
        params = {"command": "addcompany", "userName": "bot", "apiKey": KEY, "companyName": name}
        await ok(await client.get("/plugins/servlet/crm/api", params=params))
    page = (await console.get("/console/crm", params={"q": "acme"})).text
    assert "<td>Acme Corp</td>" in page
    assert "Globex" not in page
    markup = (await console.get("/console/crm", params={"q": "initech"})).text
    assert "&lt;b&gt;Initech&lt;/b&gt;" in markup
