"""The Jira Integration screen in real Chromium: configure the Default instance against the
Jira simulator and Test Connection, a refusal next to its field, Custom Mappings."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from jirasim import JiraSimulator
from tests.conftest import SIM_TOKEN, SIM_USER
from tests.console.conftest import sign_in
from tests.support.helpdesk import API, ok
from tests.support.world import seed_helpdesk

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def open_jira_screen(page: Page) -> None:
    await sign_in(page)
    await page.get_by_role("link", name="Jira Integration").click()
    await expect(page.get_by_role("heading", name="Jira Integration")).to_be_visible()


async def test_configure_the_default_instance_and_test_the_connection(
    page: Page, jira: JiraSimulator, api: httpx.AsyncClient
) -> None:
    await open_jira_screen(page)
    await expect(page.get_by_label("Instance", exact=True)).to_have_value("1")
    await page.get_by_label("Jira Host Name").fill(jira.base_url)
    await page.get_by_label("Jira User Name").fill(SIM_USER)
    await page.get_by_label("Jira API Token", exact=True).fill(SIM_TOKEN)
    await page.get_by_label("Confirm Jira API Token").fill(SIM_TOKEN)
    await page.get_by_label("Authentication").select_option("Basic")
    await page.get_by_label("Default Project KEY", exact=True).fill("DEMO")
    await page.get_by_label("Synchronization Active").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Saved.")
    await expect(page.get_by_text("A token is set; leave empty to keep it.")).to_be_visible()
    await expect(page.get_by_label("Jira API Token", exact=True)).to_have_value("")
    assert SIM_TOKEN not in await page.content()
    await page.get_by_role("button", name="Test Connection").click()
    await expect(page.locator("#test-result")).to_have_class("notice")
    instance = (await ok(await api.get(f"{API}/JiraInstances/1")))["JiraInstance"]
    assert (instance["HostName"], instance["SyncActive"]) == (jira.base_url, True)


async def test_a_refusal_is_shown_next_to_its_field(page: Page) -> None:
    await open_jira_screen(page)
    await page.get_by_label("Webhook Secret").fill("too-short")
    await page.get_by_role("button", name="Save").click()
    field = page.get_by_label("Webhook Secret")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#webhook_secret-error")).to_contain_text(
        "WebhookSecret must be at least 16 characters long"
    )


async def test_add_and_remove_a_custom_mapping(page: Page, api: httpx.AsyncClient) -> None:
    await seed_helpdesk(api)
    await open_jira_screen(page)
    await page.get_by_label("Mapping Type").select_option(label="Ticket Type")
    await page.get_by_label("Jira Field", exact=True).fill("Story")
    await page.get_by_label("Helpdesk Field").fill("Task")
    await page.get_by_role("button", name="Add Mapping").click()
    await expect(page.get_by_role("status")).to_have_text("Mapping added.")
    row = page.get_by_role("row").filter(has_text="Story")
    await expect(row).to_contain_text("Ticket Type")
    await row.get_by_role("button", name="Remove Story").click()
    await expect(page.get_by_role("status")).to_have_text("Mapping removed.")
    await expect(page.get_by_role("row").filter(has_text="Story")).to_have_count(0)


async def test_create_an_instance_and_choose_it(page: Page) -> None:
    await open_jira_screen(page)
    await page.get_by_role("link", name="Create").click()
    await page.get_by_label("Instance Name").fill("Server")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Instance created.")
    await expect(page.get_by_role("button", name="Delete")).to_be_visible()
    # Choosing opens it through the page's (deferred) script: act once the page has loaded it.
    await page.wait_for_load_state("load")
    await page.get_by_label("Instance", exact=True).select_option(label="Default")
    await expect(page.get_by_label("Instance Name")).to_have_value("Default")  # script opened it
    await expect(page.get_by_role("button", name="Delete")).to_have_count(0)
