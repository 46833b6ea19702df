"""From an empty helpdesk to a linked ticket in real Chromium: a ticket type and its status, a
product with its Jira Project Key and Jira Instance, a ticket, and its link to a new issue."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from jirasim import JiraSimulator
from tests.console.conftest import sign_in
from tests.support.world import configure_default_instance

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def test_create_a_product_and_a_ticket_and_link_it(
    page: Page, api: httpx.AsyncClient, jira: JiraSimulator
) -> None:
    await configure_default_instance(api, jira.base_url)
    await sign_in(page)
    await page.get_by_role("link", name="Catalog").click()
    types = page.locator("#ticket-types")
    await types.get_by_label("Name").fill("Task")
    await types.get_by_role("button", name="Add to Ticket Types").click()
    await expect(page.get_by_role("status")).to_have_text("Added.")
    statuses = page.locator("#ticket-statuses")
    await statuses.get_by_label("Name").fill("New")
    await statuses.get_by_label("Ticket Type").select_option(label="Task")
    await statuses.get_by_label("Default").check()
    await statuses.get_by_role("button", name="Add to Ticket Statuses").click()
    await expect(page.get_by_role("status")).to_have_text("Added.")
    products = page.locator("#products")
    await products.get_by_label("Name").fill("VPN")
    await products.get_by_label("Jira Project Key").fill("SUP")
    await products.get_by_label("Jira Instance").select_option(label="Default")
    await products.get_by_role("button", name="Add to Products").click()
    await expect(products.get_by_role("row").filter(has_text="VPN")).to_contain_text("SUP")

    await page.get_by_role("link", name="Tickets").click()
    await page.get_by_label("Name").fill("VPN drops every hour")
    await page.get_by_label("Ticket Type").select_option(label="Task")
    await page.get_by_label("Product").select_option(label="VPN")
    await page.get_by_role("button", name="Create ticket").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("VPN drops every hour")
    await page.get_by_label("Jira Key").fill("NewJiraIssue")
    await page.get_by_role("button", name="Link", exact=True).click()
    await expect(page.locator("#jira-sync-status")).to_have_text("Linked")
    await expect(page.locator("#jira-link")).to_have_text("SUP-1")
