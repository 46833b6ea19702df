"""Tickets and the Sync queue in real Chromium, against the service under uvicorn and the Jira
simulator: link with NewJiraIssue and watch it turn Linked without reloading; a Jira comment
appears on the ticket; with Jira failing, a push ends Failed in the Queue, and once Jira is back
`Retry` delivers it once; a ticket named like markup is shown as text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from jirasim import JiraSimulator
from tests.console.conftest import sign_in
from tests.support.helpdesk import API, create_ticket, ok
from tests.support.live import LiveService
from tests.support.outbound import comment_lines
from tests.support.polling import eventually
from tests.support.world import WEBHOOK_SECRET, ready_helpdesk

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def open_ticket(page: Page, ticket: dict[str, Any]) -> None:
    await sign_in(page)
    await page.get_by_role("link", name="Tickets").click()
    await page.get_by_role("link", name=ticket["Name"]).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(ticket["Name"])


async def mark_page(page: Page) -> None:
    """A mark that a reload would wipe out."""
    await page.locator("body").evaluate("body => body.dataset.mark = 'still here'")


async def test_link_with_new_jira_issue_turns_linked_without_reloading(
    page: Page, api: httpx.AsyncClient, jira: JiraSimulator
) -> None:
    await ready_helpdesk(api, jira.base_url)
    ticket = await create_ticket(api, Name="VPN drops every hour")
    await open_ticket(page, ticket)
    await page.get_by_label("Jira Key").fill("NewJiraIssue")
    await page.get_by_role("button", name="Link", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("Link requested.")
    await mark_page(page)
    await expect(page.locator("#jira-sync-status")).to_have_text("Linked")
    (issue,) = jira.state.issues.values()
    await expect(page.get_by_role("link", name=issue.key)).to_have_attribute(
        "href", f"{jira.base_url}/browse/{issue.key}"
    )
    await expect(page.locator("body")).to_have_attribute("data-mark", "still here")


async def test_a_jira_comment_appears_on_the_ticket(
    page: Page, api: httpx.AsyncClient, jira: JiraSimulator, service: LiveService
) -> None:
    await ready_helpdesk(api, jira.base_url, WebhookSecret=WEBHOOK_SECRET)
    jira.register_webhook(f"{service.base_url}/webhooks/jira/1", secret=WEBHOOK_SECRET)
    issue = jira.create_issue("DEMO", "Existing problem")
    ticket = await create_ticket(api, Name="Watching Jira", JiraKey=issue.key)
    await open_ticket(page, ticket)
    await expect(page.locator("#jira-sync-status")).to_have_text("Linked")
    await mark_page(page)
    jira.add_comment(issue.key, "Fixed in the next release")
    comment = page.locator("li.from-jira")
    await expect(comment).to_contain_text("Fixed in the next release")
    await expect(comment.locator(".source")).to_have_text("Jira")
    await expect(page.locator("body")).to_have_attribute("data-mark", "still here")


async def test_a_failed_push_is_retried_from_the_queue(
    page: Page, api: httpx.AsyncClient, jira: JiraSimulator
) -> None:
    await ready_helpdesk(api, jira.base_url)
    issue = jira.create_issue("DEMO", "Existing problem")
    ticket = await create_ticket(api, Name="Needs a callback", JiraKey=issue.key)
    await open_ticket(page, ticket)
    await expect(page.locator("#jira-sync-status")).to_have_text("Linked")
    jira.add_fault("POST", "/comment$", status=503, times=None)  # Jira is failing
    await page.get_by_label("Action Type").select_option("Comment")
    await page.get_by_label("Description").fill("Please call the customer")
    await page.get_by_role("button", name="Add action").click()
    await expect(page.get_by_role("status")).to_have_text("Action added.")

    async def failed() -> list[dict[str, Any]]:
        answer = await ok(await api.get(f"{API}/SyncJobs", params={"Status": "Failed"}))
        return list(answer["SyncJobs"])

    (job,) = await eventually(failed, lambda jobs: len(jobs) == 1, what="the push failed")
    await page.get_by_role("link", name="Sync").click()
    row = page.locator(f'tr[data-job="{job["ID"]}"]')
    await expect(row).to_contain_text("Failed")
    await expect(row).to_contain_text("jira.push_comment")
    jira.clear_faults()  # Jira is back
    await row.get_by_role("button", name="Retry").click()
    await expect(page.get_by_role("status")).to_have_text("Queued to run again.")
    await eventually(
        lambda: _comments(jira, issue.key), lambda lines: lines != [], what="the comment"
    )
    assert comment_lines(jira.issue(issue.key)) == ["Please call the customer"]

    async def pushes() -> list[dict[str, Any]]:
        answer = await ok(await api.get(f"{API}/SyncJobs", params={"Kind": "jira.push_comment"}))
        return list(answer["SyncJobs"])

    await eventually(pushes, lambda jobs: jobs == [], what="the push done")
    await page.reload()
    await expect(page.locator(f'tr[data-job="{job["ID"]}"]')).to_have_count(0)


async def _comments(jira: JiraSimulator, key: str) -> list[str]:
    return comment_lines(jira.issue(key))


async def test_a_ticket_named_like_markup_is_shown_as_text(
    page: Page, api: httpx.AsyncClient, jira: JiraSimulator
) -> None:
    await ready_helpdesk(api, jira.base_url)
    name = "<script>alert(1)</script>"
    ticket = await create_ticket(api, Name=name)
    await sign_in(page)
    await page.get_by_role("link", name="Tickets").click()
    await expect(page.get_by_role("link", name=name)).to_have_text(name)
    await page.get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{ticket['TicketNumber']}: {name}"
    )
