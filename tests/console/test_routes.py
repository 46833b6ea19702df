"""The console over HTTP (in process): sign-in into a signed cookie, CSRF, the throttle, the
security headers, and escaping. The same, in a real browser: `test_browser.py`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import API_TOKEN
from tests.console.conftest import console_client, csrf_of
from tests.console.conftest import signed_in_client as sign_in
from tests.support.helpdesk import API, ok


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client without API credentials: only what a browser holds (cookies)."""
    async with console_client(app) as http:
        yield http


class TestSignIn:
    async def test_a_page_without_a_session_sends_to_sign_in(
        self, browser: httpx.AsyncClient
    ) -> None:
        response = await browser.get("/console")
        assert (response.status_code, response.headers["location"]) == (303, "/console/sign-in")

    async def test_the_right_token_signs_in(self, browser: httpx.AsyncClient) -> None:
        response = await sign_in(browser)
        assert (response.status_code, response.headers["location"]) == (303, "/console")
        overview = await browser.get("/console")
        assert overview.status_code == 200
        assert '<h2 id="instance-1">Default</h2>' in overview.text

    async def test_a_wrong_token_does_not(self, browser: httpx.AsyncClient) -> None:
        response = await sign_in(browser, "wrong-token-0123456789")
        assert response.status_code == 401
        assert "That API token is not right." in response.text
        assert (await browser.get("/console")).status_code == 303

    async def test_repeated_wrong_tokens_are_slowed_down(self, browser: httpx.AsyncClient) -> None:
        for _ in range(5):
            assert (await sign_in(browser, "wrong-token-0123456789")).status_code == 401
        refused = await sign_in(browser)  # even the right one must wait now
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert (await browser.get("/console")).status_code == 303

    async def test_sign_out_ends_the_session(self, browser: httpx.AsyncClient) -> None:
        await sign_in(browser)
        csrf = await csrf_of(browser, "/console")
        response = await browser.post("/console/sign-out", data={"csrf_token": csrf})
        assert response.headers["location"] == "/console/sign-in"
        assert (await browser.get("/console")).status_code == 303


class TestCsrf:
    @pytest.mark.parametrize("sent", [None, "", "forged-token"])
    async def test_a_form_without_the_sessions_token_is_refused(
        self, browser: httpx.AsyncClient, sent: str | None
    ) -> None:
        await csrf_of(browser)  # the browser holds a session cookie
        data = {"token": API_TOKEN} | ({} if sent is None else {"csrf_token": sent})
        response = await browser.post("/console/sign-in", data=data)
        assert response.status_code == 403
        assert "nothing was changed" in response.text
        assert (await browser.get("/console")).status_code == 303

    async def test_sign_out_needs_it_too(self, browser: httpx.AsyncClient) -> None:
        await sign_in(browser)
        assert (await browser.post("/console/sign-out")).status_code == 403
        assert (await browser.get("/console")).status_code == 200


class TestCookieAndHeaders:
    async def test_the_session_cookie_is_http_only_strict_and_expiring(
        self, browser: httpx.AsyncClient
    ) -> None:
        cookie = (await sign_in(browser)).headers["set-cookie"]
        assert cookie.startswith("console_session=")
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite", "max-age", "path"} <= attributes
        assert "samesite=strict" in cookie.lower()
        assert "secure" not in attributes  # PUBLIC_URL is http here
        assert API_TOKEN not in cookie

    async def test_secure_when_public_url_is_https(
        self, app: Any, browser: httpx.AsyncClient, make_settings: Any
    ) -> None:
        app.state.settings = make_settings(public_url="https://helpdesk.example")
        cookie = (await browser.get("/console/sign-in")).headers["set-cookie"]
        assert "secure" in {part.strip().lower() for part in cookie.split(";")}

    @pytest.mark.parametrize(
        "path", ["/console/sign-in", "/console", "/console/static/console.css"]
    )
    async def test_security_headers_everywhere(self, browser: httpx.AsyncClient, path: str) -> None:
        headers = (await browser.get(path)).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"

    async def test_the_api_keeps_its_own_headers(self, client: httpx.AsyncClient) -> None:
        assert "content-security-policy" not in (await client.get(f"{API}/TicketTypes")).headers

    async def test_assets_ship_with_the_package(self, browser: httpx.AsyncClient) -> None:
        page = (await browser.get("/console/sign-in")).text
        assets = re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', page)
        assert assets
        assert all(asset.startswith("/console/static/") for asset in assets)
        for asset in assets:
            assert (await browser.get(asset)).status_code == 200

    async def test_the_console_is_not_part_of_the_api_spec(self, app: Any) -> None:
        assert not [path for path in app.openapi()["paths"] if path.startswith("/console")]


async def test_what_users_typed_is_shown_as_text(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    await ok(
        await client.post(f"{API}/JiraInstances", json={"Name": "<script>alert(1)</script>"}), 201
    )
    await sign_in(browser)
    page = (await browser.get("/console")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


class TestProblems:
    async def test_a_missing_ticket_is_a_page(self, browser: httpx.AsyncClient) -> None:
        await sign_in(browser)
        response = await browser.get("/console/tickets/424242")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Ticket 424242 does not exist." in response.text

    @pytest.mark.parametrize("path", ["/console/tickets/99999999999", "/console/tickets?page=0"])
    async def test_a_malformed_address_is_a_page(
        self, browser: httpx.AsyncClient, path: str
    ) -> None:
        await sign_in(browser)
        response = await browser.get(path)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")

    async def test_an_unknown_console_page_is_a_page(self, browser: httpx.AsyncClient) -> None:
        response = await browser.get("/console/nowhere")
        assert response.status_code == 404
        assert "There is no such page." in response.text

    async def test_the_api_keeps_its_error_bodies(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{API}/Tickets/424242")
        assert response.json()["Error"]["Code"] == "NotFound"
        assert (await client.get("/nowhere")).json()["Error"]["Code"] == "NotFound"
