"""Tickets, their Actions and History in JSON and XML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.helpdesk.models import Ticket
from app.integration.models import JiraInstance, JiraIssue
from tests.conftest import API_TOKEN, api_client
from tests.support.api import HelpdeskApi

TICKET_ELEMENTS = {
    "ID",
    "TicketNumber",
    "Name",
    "Description",
    "TicketTypeID",
    "TicketTypeName",
    "StatusID",
    "Status",
    "IsClosed",
    "ProductID",
    "ProductName",
    "ReportedVersionID",
    "ReportedVersion",
    "DateCreated",
    "DateModified",
    "JiraKey",
    "JiraLinkURL",
    "JiraSyncStatus",
    "JiraInstanceID",
}


@pytest.fixture
async def catalog(api: HelpdeskApi) -> dict[str, Any]:
    """Two ticket types with statuses, a product with two versions and an unused product."""
    bug, bug_statuses = await api.setup_ticket_type("Bug")
    task, task_statuses = await api.setup_ticket_type("Task", statuses=("Todo", "Done"))
    product = await api.create("/Products", "Product", {"Name": "Widget"})
    versions = [
        await api.create(f"/Products/{product['ID']}/Versions", "Version", {"VersionNumber": v})
        for v in ("1.0", "2.0")
    ]
    other = await api.create("/Products", "Product", {"Name": "Gadget"})
    return {
        "bug": bug,
        "bug_statuses": {s["Name"]: s for s in bug_statuses},
        "task": task,
        "task_statuses": {s["Name"]: s for s in task_statuses},
        "product": product,
        "versions": {v["VersionNumber"]: v for v in versions},
        "other": other,
    }


async def new_ticket(api: HelpdeskApi, **elements: Any) -> dict[str, Any]:
    return await api.create("/Tickets", "Ticket", {"Name": "Printer on fire", **elements})


class TestCreateAndRead:
    async def test_by_ids(self, api: HelpdeskApi, catalog: dict[str, Any]) -> None:
        ticket = await new_ticket(
            api,
            Description="Smoke",
            TicketTypeID=catalog["bug"]["ID"],
            StatusID=catalog["bug_statuses"]["Open"]["ID"],
            ProductID=catalog["product"]["ID"],
            ReportedVersionID=catalog["versions"]["2.0"]["ID"],
        )
        assert set(ticket) == TICKET_ELEMENTS
        assert ticket["Name"] == "Printer on fire"
        assert ticket["Description"] == "Smoke"
        assert ticket["TicketTypeName"] == "Bug"
        assert ticket["Status"] == "Open"
        assert ticket["IsClosed"] is False
        assert ticket["ProductName"] == "Widget"
        assert ticket["ReportedVersion"] == "2.0"
        assert (ticket["JiraKey"], ticket["JiraLinkURL"], ticket["JiraInstanceID"]) == (
            None,
            None,
            None,
        )
        assert ticket["JiraSyncStatus"] == "None"
        assert datetime.fromisoformat(ticket["DateCreated"])
        assert (await api.get(f"/Tickets/{ticket['ID']}")).one("Ticket") == ticket

    async def test_by_names_case_insensitively(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        ticket = await new_ticket(
            api, TicketTypeName="task", Status="DONE", ProductName="widget", ReportedVersion="1.0"
        )
        assert ticket["TicketTypeID"] == catalog["task"]["ID"]
        assert ticket["StatusID"] == catalog["task_statuses"]["Done"]["ID"]
        assert ticket["ProductID"] == catalog["product"]["ID"]
        assert ticket["ReportedVersionID"] == catalog["versions"]["1.0"]["ID"]

    async def test_status_defaults_to_the_types_default(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        ticket = await new_ticket(api, TicketTypeName="Task")
        assert ticket["Status"] == "Todo"
        assert ticket["ProductID"] is None
        assert not ticket["Description"]  # "" in JSON, an empty element in XML

    async def test_ticket_numbers_are_sequential(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        numbers = [(await new_ticket(api, TicketTypeName="Bug"))["TicketNumber"] for _ in range(3)]
        assert numbers[1:] == [numbers[0] + 1, numbers[0] + 2]
        await api.delete(f"/Tickets/{(await api.get('/Tickets')).many('Tickets')[-1]['ID']}")
        assert (await new_ticket(api, TicketTypeName="Bug"))["TicketNumber"] == numbers[0] + 3

    async def test_a_ticket_needs_its_type(self, api: HelpdeskApi) -> None:
        answer = await api.post("/Tickets", "Ticket", {"Name": "x"})
        assert answer.status == 400, answer.data
        assert answer.error["Code"] == "BadRequest"
        assert "TicketTypeID or TicketTypeName" in answer.error["Message"]

    @pytest.mark.parametrize(
        ("elements", "message"),
        [
            ({"TicketTypeName": "Nope"}, "TicketTypeName 'Nope' does not exist"),
            ({"TicketTypeName": "Bug", "Status": "Todo"}, "Status 'Todo' does not exist"),
            ({"TicketTypeName": "Bug", "ProductName": "Nope"}, "ProductName 'Nope'"),
            ({"TicketTypeName": "Bug", "ProductID": 999}, "ProductID 999"),
            ({"TicketTypeName": "Bug", "StatusID": 999}, "StatusID 999"),
            ({"TicketTypeName": "Bug", "ReportedVersion": "1.0"}, "needs the ticket's Product"),
            (
                {"TicketTypeName": "Bug", "ProductName": "Gadget", "ReportedVersion": "1.0"},
                "ReportedVersion '1.0' does not exist",
            ),
            ({"TicketTypeID": 1, "TicketTypeName": "Task"}, "does not match"),
        ],
    )
    async def test_unknown_references_are_400(
        self, api: HelpdeskApi, catalog: dict[str, Any], elements: dict[str, Any], message: str
    ) -> None:
        answer = await api.post("/Tickets", "Ticket", {"Name": "x", **elements})
        assert answer.status == 400, answer.data
        assert answer.error["Code"] == "BadReference"
        assert message in answer.error["Message"]
        assert (await api.get("/Tickets")).many("Tickets") == []

    async def test_missing_ticket_type_id_is_rejected(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        answer = await api.post("/Tickets", "Ticket", {"Name": "x", "TicketTypeID": 999})
        assert answer.status == 400
        assert answer.error["Message"] == "TicketTypeID 999 does not exist."

    async def test_status_of_another_type_is_400(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        answer = await api.post(
            "/Tickets",
            "Ticket",
            {
                "Name": "x",
                "TicketTypeName": "Bug",
                "StatusID": catalog["task_statuses"]["Done"]["ID"],
            },
        )
        assert answer.status == 400
        assert "another ticket type" in answer.error["Message"]

    async def test_missing_ticket_is_404(self, api: HelpdeskApi) -> None:
        for answer in (
            await api.get("/Tickets/999"),
            await api.put("/Tickets/999", "Ticket", {"Name": "x"}),
            await api.delete("/Tickets/999"),
            await api.get("/Tickets/999/Actions"),
            await api.get("/Tickets/999/History"),
        ):
            assert answer.status == 404
            assert answer.error["Code"] == "NotFound"


class TestUpdateAndDelete:
    async def test_put_changes_only_the_given_elements(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        ticket = await new_ticket(api, TicketTypeName="Bug", Description="d")
        answer = await api.put(f"/Tickets/{ticket['ID']}", "Ticket", {"Status": "Closed"})
        updated = answer.one("Ticket")
        assert updated["Status"] == "Closed"
        assert updated["IsClosed"] is True
        assert updated["Description"] == "d"
        assert updated["TicketNumber"] == ticket["TicketNumber"]
        assert updated["DateModified"] >= ticket["DateModified"]

    async def test_post_on_a_ticket_updates_it_too(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        ticket = await new_ticket(api, TicketTypeName="Bug")
        answer = await api.post(f"/Tickets/{ticket['ID']}", "Ticket", {"Name": "Renamed"})
        assert answer.status == 200
        assert answer.one("Ticket")["Name"] == "Renamed"

    async def test_changing_type_moves_to_the_new_types_default(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        ticket = await new_ticket(api, TicketTypeName="Bug", Status="Open")
        answer = await api.put(f"/Tickets/{ticket['ID']}", "Ticket", {"TicketTypeName": "Task"})
        assert (answer.one("Ticket")["TicketTypeName"], answer.one("Ticket")["Status"]) == (
            "Task",
            "Todo",
        )

    async def test_changing_product_clears_the_version(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        ticket = await new_ticket(
            api, TicketTypeName="Bug", ProductName="Widget", ReportedVersion="1.0"
        )
        answer = await api.put(f"/Tickets/{ticket['ID']}", "Ticket", {"ProductName": "Gadget"})
        assert answer.one("Ticket")["ProductName"] == "Gadget"
        assert answer.one("Ticket")["ReportedVersionID"] is None

    async def test_empty_name_is_refused(self, api: HelpdeskApi, catalog: dict[str, Any]) -> None:
        ticket = await new_ticket(api, TicketTypeName="Bug")
        answer = await api.put(f"/Tickets/{ticket['ID']}", "Ticket", {"Name": ""})
        assert answer.status == 400

    async def test_delete_removes_ticket_actions_and_history(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        ticket = await new_ticket(api, TicketTypeName="Bug")
        await api.create(f"/Tickets/{ticket['ID']}/Actions", "Action", {"Description": "x"})
        assert (await api.delete(f"/Tickets/{ticket['ID']}")).status == 204
        assert (await api.get(f"/Tickets/{ticket['ID']}")).status == 404
        # The type is free to go once its last ticket is gone.
        assert (await api.delete(f"/TicketTypes/{catalog['bug']['ID']}")).status == 204


class TestHistory:
    async def test_every_change_is_a_plain_line_naming_who(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        await api.create("/CustomFields", "CustomField", {"Name": "Severity", "FieldType": "Text"})
        ticket = await new_ticket(api, TicketTypeName="Bug")
        await api.put(
            f"/Tickets/{ticket['ID']}",
            "Ticket",
            {
                "Status": "Open",
                "Name": "Renamed",
                "Description": "more",
                "ProductName": "Widget",
                "Severity": "High",
            },
        )
        await api.put(f"/Tickets/{ticket['ID']}", "Ticket", {"ReportedVersion": "2.0"})
        await api.put(f"/Tickets/{ticket['ID']}", "Ticket", {"TicketTypeName": "Task"})
        await api.put(f"/Tickets/{ticket['ID']}", "Ticket", {"Status": "todo"})  # no change

        history = (await api.get(f"/Tickets/{ticket['ID']}/History")).many("History")
        assert [line["Description"] for line in history] == [
            "Ticket created by tester",
            "Name changed from 'Printer on fire' to 'Renamed' by tester",
            "Description changed by tester",
            "Status changed from New to Open by tester",
            "Product changed from (none) to Widget by tester",
            "Severity changed from (empty) to High by tester",
            "Reported version changed from (none) to 2.0 by tester",
            "Ticket type changed from Bug to Task by tester",
            "Status changed from Open to Todo by tester",
        ]
        assert {line["TicketID"] for line in history} == {ticket["ID"]}
        assert all(datetime.fromisoformat(line["DateCreated"]) for line in history)

    async def test_the_actor_is_api_without_a_basic_user_name(
        self, app: Any, fmt: str, catalog: dict[str, Any]
    ) -> None:
        async with api_client(
            app, auth=None, headers={"Authorization": f"Bearer {API_TOKEN}"}
        ) as c:
            api = HelpdeskApi(c, fmt)
            ticket = await new_ticket(api, TicketTypeName="Bug")
            history = (await api.get(f"/Tickets/{ticket['ID']}/History")).many("History")
        assert history[0]["Description"] == "Ticket created by API"


class TestCustomFieldValues:
    @pytest.mark.parametrize(
        ("field_type", "given", "shown"),
        [
            ("Text", "hello", "hello"),
            ("Number", "42", 42),
            ("Number", 2.5, 2.5),
            ("Number", "1e3", 1000),
            ("Date", "2024-02-29", "2024-02-29"),
            ("Date", "2024-02-29T10:00:00Z", "2024-02-29T10:00:00+00:00"),
            ("Boolean", "yes", True),
            ("Boolean", False, False),
            ("PickList", "high", "High"),
        ],
    )
    async def test_values_are_validated_and_shown_as_elements(
        self,
        api: HelpdeskApi,
        catalog: dict[str, Any],
        field_type: str,
        given: Any,
        shown: Any,
    ) -> None:
        definition: dict[str, Any] = {"Name": "Field One", "FieldType": field_type}
        if field_type == "PickList":
            definition["PickListValues"] = ["Low", "High"]
        await api.create("/CustomFields", "CustomField", definition)
        element = "Field One" if api.fmt == "json" else "Field_One"
        ticket = await new_ticket(api, TicketTypeName="Bug", **{element: given})
        assert ticket[element] == api.value(shown)
        assert (await api.get(f"/Tickets/{ticket['ID']}")).one("Ticket")[element] == api.value(
            shown
        )
        cleared = await api.put(f"/Tickets/{ticket['ID']}", "Ticket", {element: ""})
        assert cleared.one("Ticket")[element] is None

    @pytest.mark.parametrize(
        ("field_type", "given", "message"),
        [
            ("Number", "twelve", "must be a number"),
            ("Number", "NaN", "finite"),
            ("Date", "2024-02-30", "must be a date"),
            ("Date", "yesterday", "must be a date"),
            ("Boolean", "maybe", "must be true or false"),
            ("PickList", "Medium", "must be one of"),
            ("Text", "x" * 10_001, "longer than"),
        ],
    )
    async def test_invalid_values_are_400(
        self,
        api: HelpdeskApi,
        catalog: dict[str, Any],
        field_type: str,
        given: Any,
        message: str,
    ) -> None:
        definition: dict[str, Any] = {"Name": "Check", "FieldType": field_type}
        if field_type == "PickList":
            definition["PickListValues"] = ["Low", "High"]
        await api.create("/CustomFields", "CustomField", definition)
        answer = await api.post(
            "/Tickets", "Ticket", {"Name": "x", "TicketTypeName": "Bug", "Check": given}
        )
        assert answer.status == 400, answer.data
        assert answer.error["Message"].startswith("Check ")
        assert message in answer.error["Message"]
        assert (await api.get("/Tickets")).many("Tickets") == []

    async def test_every_field_is_shown_even_without_a_value(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        await api.create("/CustomFields", "CustomField", {"Name": "Alpha", "FieldType": "Text"})
        ticket = await new_ticket(api, TicketTypeName="Bug")
        assert ticket["Alpha"] is None


class TestListing:
    async def test_pagination_and_total_count(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        made = [(await new_ticket(api, TicketTypeName="Bug"))["ID"] for _ in range(5)]
        page = await api.get("/Tickets", params={"PageNumber": 2, "PageSize": 2})
        assert [t["ID"] for t in page.many("Tickets")] == made[2:4]
        assert page.response.headers["X-Total-Count"] == "5"
        assert page.response.headers["X-Page-Size"] == "2"
        last = await api.get("/Tickets", params={"PageNumber": 3, "PageSize": 2})
        assert [t["ID"] for t in last.many("Tickets")] == made[4:]
        beyond = await api.get("/Tickets", params={"PageNumber": 9, "PageSize": 2})
        assert beyond.many("Tickets") == []

    async def test_page_size_is_capped(
        self, app: Any, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        app.state.settings = app.state.settings.model_copy(update={"page_size_max": 3})
        for _ in range(4):
            await new_ticket(api, TicketTypeName="Bug")
        page = await api.get("/Tickets", params={"PageSize": 1000})
        assert len(page.many("Tickets")) == 3
        assert page.response.headers["X-Page-Size"] == "3"
        assert page.response.headers["X-Total-Count"] == "4"

    @pytest.mark.parametrize(
        "params", [{"PageNumber": 0}, {"PageSize": 0}, {"PageNumber": "x"}, {"ProductID": "x"}]
    )
    async def test_bad_paging_is_400(self, api: HelpdeskApi, params: dict[str, Any]) -> None:
        answer = await api.get("/Tickets", params=params)
        assert answer.status == 400
        assert answer.error["Code"] == "BadRequest"

    async def test_filters(
        self, api: HelpdeskApi, catalog: dict[str, Any], session: AsyncSession
    ) -> None:
        bug_open = await new_ticket(api, TicketTypeName="Bug", Status="Open", ProductName="Widget")
        bug_new = await new_ticket(api, TicketTypeName="Bug", ProductName="Gadget")
        task = await new_ticket(api, TicketTypeName="Task", ProductName="Widget")

        async def ids(**params: Any) -> list[int]:
            answer = await api.get("/Tickets", params=params)
            assert int(answer.response.headers["X-Total-Count"]) == len(answer.many("Tickets"))
            return [t["ID"] for t in answer.many("Tickets")]

        assert await ids() == [bug_open["ID"], bug_new["ID"], task["ID"]]
        assert await ids(Status="open") == [bug_open["ID"]]
        assert await ids(ProductID=catalog["product"]["ID"]) == [bug_open["ID"], task["ID"]]
        assert await ids(TicketTypeID=catalog["task"]["ID"]) == [task["ID"]]
        assert await ids(TicketTypeID=catalog["bug"]["ID"], ProductID=catalog["other"]["ID"]) == [
            bug_new["ID"]
        ]

        past = datetime(2020, 1, 1, tzinfo=UTC)
        await session.execute(
            update(Ticket).where(Ticket.id != task["ID"]).values(date_modified=past)
        )
        instance = await session.scalar(select(JiraInstance).limit(1))
        assert instance is not None
        issue = JiraIssue(instance_id=instance.id or 0, issue_id="10001", issue_key="ABC-7")
        session.add(issue)
        await session.flush()
        await session.execute(
            update(Ticket).where(Ticket.id == bug_new["ID"]).values(jira_issue_ref=issue.id)
        )
        await session.commit()

        since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert await ids(DateModifiedSince=since) == [task["ID"]]
        assert await ids(DateModifiedSince="2019-12-31T00:00:00Z") == [
            bug_open["ID"],
            bug_new["ID"],
            task["ID"],
        ]
        assert await ids(JiraKey="abc-7") == [bug_new["ID"]]
        assert await ids(JiraKey="ABC-8") == []


class TestActions:
    async def test_create_list_get(self, api: HelpdeskApi, catalog: dict[str, Any]) -> None:
        await api.create("/ActionTypes", "ActionType", {"Name": "Comment"})
        ticket = await new_ticket(api, TicketTypeName="Bug")
        first = await api.create(
            f"/Tickets/{ticket['ID']}/Actions",
            "Action",
            {"ActionType": "comment", "Description": "Looked at it"},
        )
        assert first["ActionType"] == "Comment"
        assert first["CreatorName"] == "tester"
        assert first["Source"] == "Helpdesk"
        assert first["TicketID"] == ticket["ID"]
        assert first["JiraCommentID"] is None
        second = await api.create(
            f"/Tickets/{ticket['ID']}/Actions",
            "Action",
            {"Description": "Note", "CreatorName": "Ann"},
        )
        assert (second["ActionType"], second["CreatorName"]) == (None, "Ann")

        listed = await api.get(f"/Tickets/{ticket['ID']}/Actions")
        assert listed.many("Actions") == [first, second]
        got = await api.get(f"/Tickets/{ticket['ID']}/Actions/{first['ID']}")
        assert got.one("Action") == first

    async def test_visible_on_portal_by_the_action_else_its_type(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        reply = await api.create(
            "/ActionTypes", "ActionType", {"Name": "Reply", "IsVisibleOnPortal": True}
        )
        note = await api.create("/ActionTypes", "ActionType", {"Name": "Note"})
        assert (reply["IsVisibleOnPortal"], note["IsVisibleOnPortal"]) == (True, False)
        ticket = await new_ticket(api, TicketTypeName="Bug")
        path = f"/Tickets/{ticket['ID']}/Actions"
        cases: list[tuple[dict[str, Any], bool]] = [
            ({"ActionType": "Reply"}, True),
            ({"ActionType": "Note"}, False),
            ({}, False),
            ({"ActionType": "Reply", "IsVisibleOnPortal": False}, False),
            ({"ActionType": "Note", "IsVisibleOnPortal": True}, True),
            ({"IsVisibleOnPortal": True}, True),
        ]
        for elements, visible in cases:
            action = await api.create(path, "Action", {"Description": "x", **elements})
            assert action["IsVisibleOnPortal"] is visible, elements
            got = await api.get(f"{path}/{action['ID']}")
            assert got.one("Action")["IsVisibleOnPortal"] is visible

    async def test_visible_on_portal_must_be_a_boolean(
        self, api: HelpdeskApi, catalog: dict[str, Any]
    ) -> None:
        ticket = await new_ticket(api, TicketTypeName="Bug")
        path = f"/Tickets/{ticket['ID']}/Actions"
        answer = await api.post(path, "Action", {"Description": "x", "IsVisibleOnPortal": "maybe"})
        assert answer.status == 400
        assert "IsVisibleOnPortal" in answer.error["Message"]
        answer = await api.post(
            "/ActionTypes", "ActionType", {"Name": "X", "IsVisibleOnPortal": "?"}
        )
        assert answer.status == 400

    async def test_action_errors(self, api: HelpdeskApi, catalog: dict[str, Any]) -> None:
        ticket = await new_ticket(api, TicketTypeName="Bug")
        other = await new_ticket(api, TicketTypeName="Bug")
        action = await api.create(
            f"/Tickets/{ticket['ID']}/Actions", "Action", {"Description": "x"}
        )
        path = f"/Tickets/{ticket['ID']}/Actions"
        assert (await api.post(path, "Action", {})).status == 400
        unknown = await api.post(path, "Action", {"Description": "x", "ActionType": "Nope"})
        assert unknown.status == 400
        assert "Nope" in unknown.error["Message"]
        assert (
            await api.post(path, "Action", {"Description": "x", "Source": "Jira"})
        ).status == 400
        assert (await api.get(f"/Tickets/{other['ID']}/Actions/{action['ID']}")).status == 404
        assert (
            await api.post("/Tickets/999/Actions", "Action", {"Description": "x"})
        ).status == 404


async def test_xml_answers_are_well_formed_with_custom_field_elements(
    client: httpx.AsyncClient,
) -> None:
    await HelpdeskApi(client, "json").setup_ticket_type("Bug", statuses=("New",))
    await client.post("/api/json/CustomFields", json={"Name": "Customer Ref", "FieldType": "Text"})
    made = await client.post(
        "/api/xml/Tickets",
        content=b"<Ticket><Name>A &amp; B</Name><TicketTypeName>Bug</TicketTypeName>"
        b"<Customer_Ref>&lt;42&gt;</Customer_Ref></Ticket>",
        headers={"Content-Type": "application/xml"},
    )
    assert made.status_code == 201, made.text
    assert made.headers["content-type"].startswith("application/xml")
    assert b"<Name>A &amp; B</Name>" in made.content
    assert b"<Customer_Ref>&lt;42&gt;</Customer_Ref>" in made.content
    as_json = (await client.get("/api/json/Tickets/1")).json()["Ticket"]
    assert as_json["Customer Ref"] == "<42>"
