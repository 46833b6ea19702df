"""Auth: HTTP Basic with the token as password (any user) or Bearer; anything else is a 401."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import API_TOKEN, api_client
from tests.support.api import FORMATS, HelpdeskApi, parse_answer


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "authorization",
    [
        basic("anyone", API_TOKEN),
        basic("", API_TOKEN),
        f"Bearer {API_TOKEN}",
        f"bearer   {API_TOKEN}  ",
    ],
)
async def test_accepted_credentials(app: Any, fmt: str, authorization: str) -> None:
    async with api_client(app, auth=None) as http:
        answer = await http.get(f"/api/{fmt}/TicketTypes", headers={"Authorization": authorization})
    assert answer.status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        basic(API_TOKEN, "wrong"),
        basic("user", API_TOKEN + "x"),
        basic("user", API_TOKEN[:-1]),
        "Basic " + base64.b64encode(API_TOKEN.encode()).decode(),  # no user:password pair
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"user:\xff\xfe").decode(),
        "Bearer",
        "Bearer wrong-token",
        f"Token {API_TOKEN}",
        API_TOKEN,
    ],
)
async def test_refused_credentials_are_401_with_a_challenge(
    app: Any, fmt: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with api_client(app, auth=None) as http:
        for method, path in (
            ("GET", "/Tickets"),
            ("POST", "/TicketTypes"),
            ("DELETE", "/Tickets/1"),
        ):
            answer = await http.request(
                method,
                f"/api/{fmt}{path}",
                headers=headers,
                content=b"{}" if fmt == "json" else b"",
            )
            assert answer.status_code == 401, (method, path)
            assert "Basic" in answer.headers["WWW-Authenticate"]
            assert "Bearer" in answer.headers["WWW-Authenticate"]
            assert parse_answer(answer)["Error"]["Code"] == "Unauthorized"
            assert API_TOKEN not in answer.text


async def test_nothing_is_written_without_credentials(app: Any, client: httpx.AsyncClient) -> None:
    async with api_client(app, auth=None) as http:
        await http.post("/api/json/TicketTypes", json={"Name": "Sneaky"})
    assert (await client.get("/api/json/TicketTypes")).json() == {"TicketTypes": []}


async def test_probes_need_no_token(app: Any) -> None:
    async with api_client(app, auth=None) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200


async def test_the_basic_user_name_is_the_actor_without_control_characters(app: Any) -> None:
    async with api_client(app, auth=("ann\x00\x07 ", API_TOKEN)) as http:
        await HelpdeskApi(http, "json").setup_ticket_type("Bug", statuses=("New",))
        made = await http.post("/api/json/Tickets", json={"Name": "x", "TicketTypeID": 1})
        history = await http.get(f"/api/json/Tickets/{made.json()['Ticket']['ID']}/History")
    assert history.json()["History"][0]["Description"] == "Ticket created by ann"
