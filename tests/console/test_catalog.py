"""The Catalog screen and the New ticket form, in process: add and delete through the same
services as the API, refusals next to their field in the API's words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.datastructures import FormData

from app.console.catalog import BY_SLUG, elements
from tests.console.conftest import console_client, csrf_of, signed_in_client
from tests.support.helpdesk import API, ok


@pytest.fixture
async def console(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with console_client(app) as client:
        await signed_in_client(client)
        yield client


@pytest.mark.parametrize(
    ("slug", "form", "expected"),
    [
        ("ticket-types", [("ticket-types-name", " Bug ")], {"Name": "Bug"}),
        (
            "ticket-statuses",
            [
                ("ticket-statuses-name", "Open"),
                ("ticket-statuses-ticket_type_id", "3"),
                ("ticket-statuses-is_closed", "on"),
            ],
            {"Name": "Open", "TicketTypeID": 3, "IsDefault": False, "IsClosed": True},
        ),
        (
            "products",
            [
                ("products-name", "VPN"),
                ("products-jira_project_key", ""),
                ("products-jira_instance_id", ""),
            ],
            {"Name": "VPN", "JiraProjectKey": None, "JiraInstanceID": None},
        ),
        (
            "custom-fields",
            [
                ("custom-fields-name", "Severity"),
                ("custom-fields-field_type", "PickList"),
                ("custom-fields-pick_list_values", "Low\r\n\r\n High \n"),
            ],
            {"Name": "Severity", "FieldType": "PickList", "PickListValues": ["Low", "High"]},
        ),
    ],
)
def test_an_add_form_as_api_elements(
    slug: str, form: list[tuple[str, str]], expected: dict[str, Any]
) -> None:
    assert elements(BY_SLUG[slug], FormData(form)) == expected


async def add(console: httpx.AsyncClient, slug: str, **fields: str) -> httpx.Response:
    csrf = await csrf_of(console, "/console/catalog")
    data = {"csrf_token": csrf} | {f"{slug}-{name}": value for name, value in fields.items()}
    return await console.post(f"/console/catalog/{slug}", data=data)


class TestCatalog:
    async def test_a_product_with_its_jira_project_and_instance(
        self, console: httpx.AsyncClient, client: httpx.AsyncClient
    ) -> None:
        response = await add(
            console, "products", name="VPN", jira_project_key="sup", jira_instance_id="1"
        )
        assert response.headers["location"] == "/console/catalog?notice=added#products"
        (product,) = (await ok(await client.get(f"{API}/Products")))["Products"]
        assert (product["Name"], product["JiraProjectKey"], product["JiraInstanceID"]) == (
            "VPN",
            "SUP",
            1,
        )
        page = (await console.get("/console/catalog")).text
        assert "<td>Default</td>" in page  # the instance by its name

    async def test_a_refusal_next_to_its_field_in_the_apis_words(
        self, console: httpx.AsyncClient, client: httpx.AsyncClient
    ) -> None:
        await add(console, "ticket-types", name="Bug")
        response = await add(console, "ticket-types", name="bug")
        api = await client.post(f"{API}/TicketTypes", json={"Name": "bug"})
        assert response.status_code == 400
        words = api.json()["Error"]["Message"].replace("'", "&#39;")
        shown = f'<p class="error" id="ticket-types-name-error" role="alert">{words}</p>'
        assert shown in response.text
        assert len((await ok(await client.get(f"{API}/TicketTypes")))["TicketTypes"]) == 1

    async def test_a_status_needs_its_ticket_type(self, console: httpx.AsyncClient) -> None:
        response = await add(console, "ticket-statuses", name="Open")
        assert response.status_code == 400
        assert 'id="ticket-statuses-ticket_type_id-error"' in response.text

    async def test_delete(self, console: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
        await add(console, "action-types", name="Comment")
        (action_type,) = (await ok(await client.get(f"{API}/ActionTypes")))["ActionTypes"]
        csrf = await csrf_of(console, "/console/catalog")
        await console.post(
            f"/console/catalog/action-types/{action_type['ID']}/delete", data={"csrf_token": csrf}
        )
        assert (await ok(await client.get(f"{API}/ActionTypes")))["ActionTypes"] == []


class TestNewTicket:
    async def test_a_ticket_from_the_form(
        self, console: httpx.AsyncClient, client: httpx.AsyncClient
    ) -> None:
        await add(console, "ticket-types", name="Task")
        await add(console, "ticket-statuses", name="New", ticket_type_id="1", is_default="on")
        csrf = await csrf_of(console, "/console/tickets")
        form = {"csrf_token": csrf, "name": "Printer", "ticket_type_id": "1", "product_id": ""}
        response = await console.post("/console/tickets", data=form)
        (ticket,) = (await ok(await client.get(f"{API}/Tickets")))["Tickets"]
        assert response.headers["location"] == f"/console/tickets/{ticket['ID']}"
        assert (ticket["Name"], ticket["Status"]) == ("Printer", "New")

    async def test_a_ticket_needs_a_type(self, console: httpx.AsyncClient) -> None:
        csrf = await csrf_of(console, "/console/tickets")
        form = {"csrf_token": csrf, "name": "Printer", "ticket_type_id": ""}
        response = await console.post("/console/tickets", data=form)
        assert response.status_code == 400
        assert 'id="new-ticket_type_id-error"' in response.text
        assert 'value="Printer"' in response.text
