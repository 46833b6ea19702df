"""The CRM screen in real Chromium: a user's rights changed in the matrix, a checkbox per
right, each named by its user and its right."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.console.conftest import sign_in
from tests.support.helpdesk import API, ok

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def test_grant_a_right_in_the_matrix(page: Page, api: httpx.AsyncClient) -> None:
    await ok(await api.put(f"{API}/Crm/Users/alice", json={"Rights": ["CRM Main Menu"]}))
    await sign_in(page)
    await page.get_by_role("link", name="CRM").click()
    await expect(page.get_by_role("checkbox", name="alice CRM Main Menu")).to_be_checked()
    await page.get_by_role("checkbox", name="alice Add companies").check()
    await page.get_by_role("button", name="Save rights of alice").click()
    await expect(page.get_by_role("status")).to_have_text("User saved.")
    await expect(page.get_by_role("checkbox", name="alice Add companies")).to_be_checked()
    user = (await ok(await api.get(f"{API}/Crm/Users/alice")))["User"]
    assert user["Rights"] == ["CRM Main Menu", "Add companies"]
