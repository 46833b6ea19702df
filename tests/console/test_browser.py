"""The console in real Chromium against the service under uvicorn: sign-in and sign-out, a
wrong token, a form without its CSRF token, escaping, keyboard use and a phone-sized screen."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.console.conftest import sign_in
from tests.support.helpdesk import API, ok

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def test_sign_in_and_out(page: Page) -> None:
    await sign_in(page)
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(page.get_by_role("heading", name="Default")).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("API token")).to_be_visible()
    await page.goto("/console")
    await expect(page).to_have_url("/console/sign-in")


async def test_a_wrong_token_does_not_sign_in(page: Page) -> None:
    await sign_in(page, "not-the-token-0123456789")
    await expect(page.get_by_role("alert")).to_have_text("That API token is not right.")
    await expect(page.get_by_role("heading", name="Overview")).to_have_count(0)
    await page.goto("/console")
    await expect(page).to_have_url("/console/sign-in")


async def test_a_form_without_its_csrf_token_is_refused(page: Page) -> None:
    await sign_in(page)
    await page.locator("form.sign-out input[name=csrf_token]").evaluate("input => input.remove()")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    await page.goto("/console")
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()  # still signed in


async def test_a_name_with_markup_is_shown_as_text(page: Page, api: httpx.AsyncClient) -> None:
    name = "<script>alert(1)</script>"
    await ok(await api.post(f"{API}/JiraInstances", json={"Name": name}), 201)
    await sign_in(page)
    await expect(page.get_by_role("heading", name=name)).to_have_text(name)


async def test_signing_in_with_the_keyboard_alone(page: Page) -> None:
    await page.goto("/console/sign-in")
    await expect(page.get_by_label("API token")).to_be_focused()
    from tests.conftest import API_TOKEN

    await page.keyboard.type(API_TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()


async def test_usable_on_a_phone(phone: Page) -> None:
    await sign_in(phone)
    await expect(phone.get_by_role("button", name="Sign out")).to_be_in_viewport()
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


async def test_every_screen_fits_a_phone(phone: Page) -> None:
    await sign_in(phone)
    for path in (
        "/console",
        "/console/jira",
        "/console/tickets",
        "/console/catalog",
        "/console/sync",
        "/console/crm",
    ):
        await phone.goto(path)
        await expect(phone.get_by_role("heading", level=1)).to_be_visible()
        overflow = await phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
