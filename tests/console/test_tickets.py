"""Tickets in the console, in process: the list with search, filters and pages; a ticket's
page with its Jira box (Link, Unlink, the reason of an Error), actions and History, and the
fragment the page's script re-reads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.console.conftest import console_client, csrf_of, signed_in_client
from tests.support.helpdesk import API, add_action, create_ticket, ok
from tests.support.jobs import drain
from tests.support.world import linked_ticket, ready_helpdesk


@pytest.fixture
async def console(sim_app: Any, sim_client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    await ready_helpdesk(sim_client)
    async with console_client(sim_app) as client:
        await signed_in_client(client)
        yield client


def listed(page: str) -> list[str]:
    return re.findall(r'<td><a href="/console/tickets/\d+">([^<]*)</a></td>', page)


class TestList:
    async def test_search_by_number_name_and_jira_key(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        linked = await linked_ticket(sim_app, sim_client, jira_sim)
        other = await create_ticket(sim_client, Name="Printer jammed")
        assert set(listed((await console.get("/console/tickets")).text)) == {
            linked.ticket["Name"],
            "Printer jammed",
        }
        by_number = await console.get("/console/tickets", params={"q": other["TicketNumber"]})
        assert listed(by_number.text) == ["Printer jammed"]
        assert listed((await console.get("/console/tickets", params={"q": "JAMMED"})).text) == [
            "Printer jammed"
        ]
        by_key = await console.get("/console/tickets", params={"q": linked.issue_key.lower()})
        assert listed(by_key.text) == [linked.ticket["Name"]]

    async def test_filters_by_status_and_jira_sync_status(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        linked = await linked_ticket(sim_app, sim_client, jira_sim)
        await create_ticket(sim_client, Name="Not linked")
        linked_only = await console.get("/console/tickets", params={"jira": "Linked"})
        assert listed(linked_only.text) == [linked.ticket["Name"]]
        assert listed((await console.get("/console/tickets", params={"jira": "None"})).text) == [
            "Not linked"
        ]
        assert listed((await console.get("/console/tickets", params={"status": "Nope"})).text) == []

    async def test_paged(self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient) -> None:
        for n in range(26):
            await create_ticket(sim_client, Name=f"Ticket {n:02}")
        first = (await console.get("/console/tickets")).text
        assert len(listed(first)) == 25
        assert "Page 1 of 2" in first
        second = (await console.get("/console/tickets", params={"page": 2})).text
        assert listed(second) == ["Ticket 25"]

    async def test_a_name_with_markup_is_text(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        ticket = await create_ticket(sim_client, Name="<script>alert(1)</script>")
        for path in ("/console/tickets", f"/console/tickets/{ticket['ID']}"):
            page = (await console.get(path)).text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
            assert "<script>alert" not in page


async def post(console: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    csrf = await csrf_of(console, "/console/tickets")
    return await console.post(path, data={"csrf_token": csrf, **data})


class TestTicketPage:
    async def test_link_with_new_jira_issue(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        ticket = await create_ticket(sim_client, Name="Broken login")
        path = f"/console/tickets/{ticket['ID']}"
        response = await post(console, f"{path}/link", jira_key="NewJiraIssue")
        assert response.headers["location"] == f"{path}?notice=link"
        pending = await console.get(f"{path}/live")
        assert (
            '<span class="badge jira-pending" id="jira-sync-status">Pending</span>' in pending.text
        )
        await drain(sim_app)
        linked = await console.get(f"{path}/live")
        assert linked.headers["x-version"] != pending.headers["x-version"]
        (issue,) = jira_sim.state.issues.values()
        assert f'href="{jira_sim.base_url}/browse/{issue.key}"' in linked.text
        assert ">Linked</span>" in linked.text
        page = (await console.get(path)).text
        assert f'data-version="{linked.headers["x-version"]}"' in page

    async def test_an_error_shows_its_reason(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient
    ) -> None:
        ticket = await create_ticket(sim_client, JiraKey="DEMO-999")
        await drain(sim_app)
        page = (await console.get(f"/console/tickets/{ticket['ID']}")).text
        assert ">Error</span>" in page
        assert re.search(r'<p class="error" id="jira-reason">[^<]*DEMO-999[^<]*</p>', page)

    async def test_a_refused_key_is_shown_next_to_the_field(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        ticket = await create_ticket(sim_client)
        response = await post(
            console, f"/console/tickets/{ticket['ID']}/link", jira_key="not a key"
        )
        assert response.status_code == 400
        assert 'aria-describedby="jira_key-error"' in response.text
        assert 'value="not a key"' in response.text

    async def test_unlink(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        linked = await linked_ticket(sim_app, sim_client, jira_sim)
        path = f"/console/tickets/{linked.ticket['ID']}"
        assert (await post(console, f"{path}/unlink")).headers[
            "location"
        ] == f"{path}?notice=unlink"
        assert ">None</span>" in (await console.get(f"{path}/live")).text

    async def test_actions_from_both_sides_on_the_timeline(
        self, console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
    ) -> None:
        linked = await linked_ticket(sim_app, sim_client, jira_sim)
        path = f"/console/tickets/{linked.ticket['ID']}"
        added = await post(
            console, f"{path}/actions", action_type="Comment", description="Hello Jira"
        )
        assert added.headers["location"] == f"{path}?notice=action"
        await drain(sim_app)
        page = (await console.get(path)).text
        assert '<li class="from-helpdesk">' in page
        assert "Hello Jira" in page
        assert "Ticket created by Console" not in page  # created through the API
        assert "Ticket created by tester" in page  # the History

    @pytest.mark.parametrize(("chosen", "visible"), [("", False), ("true", True), ("false", False)])
    async def test_an_action_says_whether_the_customer_sees_it(
        self,
        console: httpx.AsyncClient,
        sim_client: httpx.AsyncClient,
        chosen: str,
        visible: bool,
    ) -> None:
        ticket = await create_ticket(sim_client)
        path = f"/console/tickets/{ticket['ID']}"
        await post(console, f"{path}/actions", description="Hi", is_visible_on_portal=chosen)
        actions = await ok(await sim_client.get(f"{API}/Tickets/{ticket['ID']}/Actions"))
        assert [a["IsVisibleOnPortal"] for a in actions["Actions"]] == [visible]

    async def test_an_empty_action_is_refused_next_to_its_field(
        self, console: httpx.AsyncClient, sim_client: httpx.AsyncClient
    ) -> None:
        ticket = await create_ticket(sim_client)
        response = await post(console, f"/console/tickets/{ticket['ID']}/actions", description=" ")
        assert response.status_code == 400
        assert 'id="description-error"' in response.text


async def test_a_pushed_action_says_it_is_in_jira(
    console: httpx.AsyncClient, sim_app: Any, sim_client: httpx.AsyncClient, jira_sim: Any
) -> None:
    linked = await linked_ticket(sim_app, sim_client, jira_sim)
    await add_action(sim_client, linked.ticket["ID"], "from the helpdesk")
    await drain(sim_app)
    page = (await console.get(f"/console/tickets/{linked.ticket['ID']}")).text
    assert "in Jira" in page  # the pushed action carries its comment id


async def test_a_ticket_of_a_type_not_synchronised_offers_no_link(
    console: httpx.AsyncClient, sim_client: httpx.AsyncClient
) -> None:
    types = (await ok(await sim_client.get(f"{API}/TicketTypes")))["TicketTypes"]
    bug = next(t["ID"] for t in types if t["Name"] == "Bug")
    await ok(
        await sim_client.put(
            f"{API}/JiraInstances/1",
            json={"UseAllTicketTypes": False, "AllowedTicketTypeIDs": [bug]},
        )
    )
    task = await create_ticket(sim_client, TicketTypeName="Task")
    page = (await console.get(f"/console/tickets/{task['ID']}")).text
    assert "Tickets of type &#39;Task&#39; are not synchronised with Jira instance" in page
    assert f'action="/console/tickets/{task["ID"]}/link"' not in page
    bug_ticket = await create_ticket(sim_client, TicketTypeName="Bug")
    page = (await console.get(f"/console/tickets/{bug_ticket['ID']}")).text
    assert f'action="/console/tickets/{bug_ticket["ID"]}/link"' in page
