"""The catalogue resources in JSON and XML: TicketTypes, TicketStatuses, ActionTypes, Products,
Versions and CustomFields."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.api import HelpdeskApi

SIMPLE = [
    ("/TicketTypes", "TicketType", "TicketTypes"),
    ("/ActionTypes", "ActionType", "ActionTypes"),
    ("/Products", "Product", "Products"),
]


class TestSimpleCatalogues:
    @pytest.mark.parametrize(("path", "singular", "plural"), SIMPLE)
    async def test_create_get_list_update_delete(
        self, api: HelpdeskApi, path: str, singular: str, plural: str
    ) -> None:
        created = await api.create(path, singular, {"Name": "First"})
        assert created["Name"] == "First"
        assert isinstance(created["ID"], int)
        await api.create(path, singular, {"Name": "Second"})

        got = await api.get(f"{path}/{created['ID']}")
        assert got.one(singular) == created

        listed = await api.get(path)
        assert [item["Name"] for item in listed.many(plural)] == ["First", "Second"]

        updated = await api.put(f"{path}/{created['ID']}", singular, {"Name": "Renamed"})
        assert updated.one(singular) == {**created, "Name": "Renamed"}
        assert (await api.get(f"{path}/{created['ID']}")).one(singular)["Name"] == "Renamed"

        deleted = await api.delete(f"{path}/{created['ID']}")
        assert deleted.status == 204
        missing = await api.get(f"{path}/{created['ID']}")
        assert missing.status == 404
        assert missing.error["Code"] == "NotFound"

    @pytest.mark.parametrize(("path", "singular", "plural"), SIMPLE)
    async def test_names_are_unique_case_insensitively(
        self, api: HelpdeskApi, path: str, singular: str, plural: str
    ) -> None:
        await api.create(path, singular, {"Name": "Same"})
        answer = await api.post(path, singular, {"Name": "SAME"})
        assert answer.status == 409
        assert answer.error["Code"] == "Conflict"
        assert len((await api.get(path)).many(plural)) == 1

    @pytest.mark.parametrize(("path", "singular", "plural"), SIMPLE)
    async def test_name_is_required(
        self, api: HelpdeskApi, path: str, singular: str, plural: str
    ) -> None:
        answer = await api.post(path, singular, {})
        assert answer.status == 400
        assert "Name" in answer.error["Message"]

    @pytest.mark.parametrize(("path", "singular", "plural"), SIMPLE)
    async def test_missing_item_is_404(
        self, api: HelpdeskApi, path: str, singular: str, plural: str
    ) -> None:
        for answer in (
            await api.get(f"{path}/999"),
            await api.put(f"{path}/999", singular, {"Name": "x"}),
            await api.delete(f"{path}/999"),
        ):
            assert answer.status == 404, answer.data
            assert answer.error["Code"] == "NotFound"

    async def test_json_body_may_omit_the_wrapper(self, client: httpx.AsyncClient) -> None:
        answer = await client.post("/api/json/TicketTypes", json={"Name": "Unwrapped"})
        assert answer.status_code == 201
        assert answer.json()["TicketType"]["Name"] == "Unwrapped"

    async def test_element_names_are_case_insensitive_on_input(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.post("/api/json/Products", json={"product": {"name": "Lower"}})
        assert answer.status_code == 201
        assert answer.json()["Product"]["Name"] == "Lower"


class TestProducts:
    async def test_jira_project_key_is_upper_cased(self, api: HelpdeskApi) -> None:
        product = await api.create("/Products", "Product", {"Name": "P", "JiraProjectKey": " abc "})
        assert product["JiraProjectKey"] == "ABC"
        assert product["JiraInstanceID"] is None

    async def test_unknown_jira_instance_is_400(self, api: HelpdeskApi) -> None:
        answer = await api.post("/Products", "Product", {"Name": "P", "JiraInstanceID": 999})
        assert answer.status == 400
        assert "JiraInstanceID 999" in answer.error["Message"]

    async def test_deleting_a_product_used_by_a_ticket_is_409(self, api: HelpdeskApi) -> None:
        ticket_type, _ = await api.setup_ticket_type()
        product = await api.create("/Products", "Product", {"Name": "P"})
        await api.create(
            "/Tickets",
            "Ticket",
            {"Name": "t", "TicketTypeID": ticket_type["ID"], "ProductID": product["ID"]},
        )
        answer = await api.delete(f"/Products/{product['ID']}")
        assert answer.status == 409
        assert answer.error["Code"] == "Conflict"
        assert (await api.get(f"/Products/{product['ID']}")).status == 200


class TestVersions:
    async def test_versions_belong_to_a_product(self, api: HelpdeskApi) -> None:
        product = await api.create("/Products", "Product", {"Name": "P"})
        other = await api.create("/Products", "Product", {"Name": "Other"})
        version = await api.create(
            f"/Products/{product['ID']}/Versions",
            "Version",
            {"VersionNumber": "1.0", "JiraProjectKey": "abc"},
        )
        assert version["ProductID"] == product["ID"]
        assert version["VersionNumber"] == "1.0"
        assert version["JiraProjectKey"] == "ABC"
        await api.create(f"/Products/{other['ID']}/Versions", "Version", {"VersionNumber": "1.0"})

        listed = await api.get(f"/Products/{product['ID']}/Versions")
        assert listed.many("Versions") == [version]
        assert (await api.get(f"/Versions/{version['ID']}")).one("Version") == version

        updated = await api.put(f"/Versions/{version['ID']}", "Version", {"VersionNumber": "1.1"})
        assert updated.one("Version")["VersionNumber"] == "1.1"

        assert (await api.delete(f"/Versions/{version['ID']}")).status == 204
        assert (await api.get(f"/Products/{product['ID']}/Versions")).many("Versions") == []

    async def test_version_numbers_are_unique_per_product(self, api: HelpdeskApi) -> None:
        product = await api.create("/Products", "Product", {"Name": "P"})
        await api.create(f"/Products/{product['ID']}/Versions", "Version", {"VersionNumber": "2"})
        answer = await api.post(
            f"/Products/{product['ID']}/Versions", "Version", {"VersionNumber": "2"}
        )
        assert answer.status == 409

    async def test_a_version_cannot_move_to_another_product(self, api: HelpdeskApi) -> None:
        product = await api.create("/Products", "Product", {"Name": "P"})
        other = await api.create("/Products", "Product", {"Name": "Q"})
        version = await api.create(
            f"/Products/{product['ID']}/Versions", "Version", {"VersionNumber": "1"}
        )
        answer = await api.put(f"/Versions/{version['ID']}", "Version", {"ProductID": other["ID"]})
        assert answer.status == 409  # the request is well-formed; the version's state forbids it

    async def test_the_body_of_a_create_may_only_repeat_the_product_of_the_path(
        self, api: HelpdeskApi
    ) -> None:
        product = await api.create("/Products", "Product", {"Name": "P"})
        other = await api.create("/Products", "Product", {"Name": "Q"})
        path = f"/Products/{product['ID']}/Versions"
        repeated = await api.create(
            path, "Version", {"VersionNumber": "1", "ProductID": product["ID"]}
        )
        assert repeated["ProductID"] == product["ID"]
        elsewhere = await api.post(
            path, "Version", {"VersionNumber": "2", "ProductID": other["ID"]}
        )
        assert (elsewhere.status, elsewhere.error["Code"]) == (400, "BadReference")
        null = await api.post(path, "Version", {"VersionNumber": "2", "ProductID": None})
        assert (null.status, null.error["Code"]) == (400, "BadRequest")
        assert [v["VersionNumber"] for v in (await api.get(path)).many("Versions")] == ["1"]

    async def test_versions_of_a_missing_product_are_404(self, api: HelpdeskApi) -> None:
        assert (await api.get("/Products/999/Versions")).status == 404
        answer = await api.post("/Products/999/Versions", "Version", {"VersionNumber": "1"})
        assert answer.status == 404

    async def test_deleting_a_product_deletes_its_unused_versions(self, api: HelpdeskApi) -> None:
        product = await api.create("/Products", "Product", {"Name": "P"})
        version = await api.create(
            f"/Products/{product['ID']}/Versions", "Version", {"VersionNumber": "1"}
        )
        assert (await api.delete(f"/Products/{product['ID']}")).status == 204
        assert (await api.get(f"/Versions/{version['ID']}")).status == 404


class TestTicketStatuses:
    async def test_first_status_of_a_type_is_its_default(self, api: HelpdeskApi) -> None:
        _, (new, open_, closed) = await api.setup_ticket_type()
        assert (new["IsDefault"], open_["IsDefault"], closed["IsDefault"]) == (True, False, False)
        assert closed["IsClosed"] is True
        assert new["IsClosed"] is False

    async def test_exactly_one_default_per_type(self, api: HelpdeskApi) -> None:
        ticket_type, (new, open_, _) = await api.setup_ticket_type()
        other_type, (other_new, *_) = await api.setup_ticket_type("Task")

        answer = await api.put(
            f"/TicketStatuses/{open_['ID']}", "TicketStatus", {"IsDefault": True}
        )
        assert answer.one("TicketStatus")["IsDefault"] is True

        statuses = (await api.get("/TicketStatuses")).many("TicketStatuses")
        defaults = {s["TicketTypeID"]: s["Name"] for s in statuses if s["IsDefault"]}
        assert defaults == {ticket_type["ID"]: "Open", other_type["ID"]: "New"}
        assert (await api.get(f"/TicketStatuses/{other_new['ID']}")).one("TicketStatus")[
            "IsDefault"
        ] is True

    async def test_a_new_default_replaces_the_old_one(self, api: HelpdeskApi) -> None:
        ticket_type, (new, *_) = await api.setup_ticket_type()
        made = await api.create(
            "/TicketStatuses",
            "TicketStatus",
            {"Name": "Triage", "TicketTypeID": ticket_type["ID"], "IsDefault": True},
        )
        assert made["IsDefault"] is True
        assert (await api.get(f"/TicketStatuses/{new['ID']}")).one("TicketStatus")[
            "IsDefault"
        ] is False

    async def test_the_default_cannot_be_unset_directly(self, api: HelpdeskApi) -> None:
        _, (new, *_) = await api.setup_ticket_type()
        answer = await api.put(f"/TicketStatuses/{new['ID']}", "TicketStatus", {"IsDefault": False})
        assert answer.status == 409
        assert (await api.get(f"/TicketStatuses/{new['ID']}")).one("TicketStatus")["IsDefault"]

    async def test_the_default_cannot_be_deleted_while_others_remain(
        self, api: HelpdeskApi
    ) -> None:
        _, (new, open_, closed) = await api.setup_ticket_type()
        assert (await api.delete(f"/TicketStatuses/{new['ID']}")).status == 409
        assert (await api.delete(f"/TicketStatuses/{closed['ID']}")).status == 204

    async def test_status_names_are_unique_per_type(self, api: HelpdeskApi) -> None:
        ticket_type, _ = await api.setup_ticket_type()
        other, _ = await api.setup_ticket_type("Task", statuses=())
        body = {"Name": "new", "TicketTypeID": ticket_type["ID"]}
        assert (await api.post("/TicketStatuses", "TicketStatus", body)).status == 409
        await api.create("/TicketStatuses", "TicketStatus", {**body, "TicketTypeID": other["ID"]})

    async def test_status_needs_an_existing_type(self, api: HelpdeskApi) -> None:
        missing = await api.post("/TicketStatuses", "TicketStatus", {"Name": "x"})
        assert missing.status == 400
        assert "TicketTypeID" in missing.error["Message"]
        unknown = await api.post(
            "/TicketStatuses", "TicketStatus", {"Name": "x", "TicketTypeID": 999}
        )
        assert unknown.status == 400
        assert unknown.error["Message"] == "TicketTypeID 999 does not exist."

    async def test_deleting_a_type_deletes_its_statuses(self, api: HelpdeskApi) -> None:
        ticket_type, (new, *_) = await api.setup_ticket_type()
        assert (await api.delete(f"/TicketTypes/{ticket_type['ID']}")).status == 204
        assert (await api.get(f"/TicketStatuses/{new['ID']}")).status == 404

    async def test_deleting_a_type_used_by_a_ticket_is_409(self, api: HelpdeskApi) -> None:
        ticket_type, _ = await api.setup_ticket_type()
        await api.create("/Tickets", "Ticket", {"Name": "t", "TicketTypeID": ticket_type["ID"]})
        answer = await api.delete(f"/TicketTypes/{ticket_type['ID']}")
        assert answer.status == 409
        assert answer.error["Code"] == "Conflict"
        assert "ticket" in answer.error["Message"]

    async def test_deleting_a_status_used_by_a_ticket_is_409(self, api: HelpdeskApi) -> None:
        ticket_type, (_, open_, _) = await api.setup_ticket_type()
        await api.create(
            "/Tickets", "Ticket", {"Name": "t", "TicketTypeID": ticket_type["ID"], "Status": "Open"}
        )
        assert (await api.delete(f"/TicketStatuses/{open_['ID']}")).status == 409


class TestActionTypes:
    async def test_deleting_an_action_type_used_by_an_action_is_409(self, api: HelpdeskApi) -> None:
        ticket_type, _ = await api.setup_ticket_type()
        action_type = await api.create("/ActionTypes", "ActionType", {"Name": "Comment"})
        ticket = await api.create(
            "/Tickets", "Ticket", {"Name": "t", "TicketTypeID": ticket_type["ID"]}
        )
        await api.create(
            f"/Tickets/{ticket['ID']}/Actions",
            "Action",
            {"ActionType": "Comment", "Description": "hi"},
        )
        assert (await api.delete(f"/ActionTypes/{action_type['ID']}")).status == 409


class TestCustomFields:
    @pytest.mark.parametrize("field_type", ["Text", "Number", "Date", "Boolean"])
    async def test_plain_types(self, api: HelpdeskApi, field_type: str) -> None:
        made = await api.create(
            "/CustomFields", "CustomField", {"Name": f"F {field_type}", "FieldType": field_type}
        )
        assert made["FieldType"] == field_type
        assert made["PickListValues"] == []
        assert (await api.get(f"/CustomFields/{made['ID']}")).one("CustomField") == made

    async def test_pick_list(self, api: HelpdeskApi) -> None:
        made = await api.create(
            "/CustomFields",
            "CustomField",
            {"Name": "Severity", "FieldType": "PickList", "PickListValues": ["Low", " High "]},
        )
        assert made["PickListValues"] == ["Low", "High"]
        updated = await api.put(
            f"/CustomFields/{made['ID']}",
            "CustomField",
            {"PickListValues": ["Low", "High", "Critical"]},
        )
        assert updated.one("CustomField")["PickListValues"] == ["Low", "High", "Critical"]
        listed = (await api.get("/CustomFields")).many("CustomFields")
        assert [field["Name"] for field in listed] == ["Severity"]
        assert (await api.delete(f"/CustomFields/{made['ID']}")).status == 204

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"Name": "S", "FieldType": "PickList"}, "at least one value"),
            ({"Name": "S", "FieldType": "PickList", "PickListValues": ["a", "A"]}, "unique"),
            ({"Name": "S", "FieldType": "Text", "PickListValues": ["a"]}, "only PickList"),
            ({"Name": "S", "FieldType": "Colour"}, "FieldType"),
            ({"Name": "S"}, "FieldType"),
            ({"Name": "Status", "FieldType": "Text"}, "built-in"),
        ],
    )
    async def test_invalid_definitions(
        self, api: HelpdeskApi, body: dict[str, object], message: str
    ) -> None:
        answer = await api.post("/CustomFields", "CustomField", body)
        assert answer.status == 400, answer.data
        assert message in answer.error["Message"]

    async def test_type_of_a_field_with_values_cannot_change(self, api: HelpdeskApi) -> None:
        ticket_type, _ = await api.setup_ticket_type()
        field = await api.create("/CustomFields", "CustomField", {"Name": "N", "FieldType": "Text"})
        await api.create(
            "/Tickets", "Ticket", {"Name": "t", "TicketTypeID": ticket_type["ID"], "N": "v"}
        )
        answer = await api.put(f"/CustomFields/{field['ID']}", "CustomField", {"FieldType": "Date"})
        assert answer.status == 409
        assert (await api.delete(f"/CustomFields/{field['ID']}")).status == 409


async def test_xml_lists_name_their_items_after_the_resource(client: httpx.AsyncClient) -> None:
    await HelpdeskApi(client, "json").setup_ticket_type("Bug", statuses=("New",))
    types = await client.get("/api/xml/TicketTypes")
    assert b"<TicketTypes><TicketType><ID>1</ID><Name>Bug</Name></TicketType></TicketTypes>" in (
        types.content
    )
    statuses = await client.get("/api/xml/TicketStatuses")
    assert b"<TicketStatuses><TicketStatus>" in statuses.content
    assert json.loads((await client.get("/api/json/TicketTypes")).content) == {
        "TicketTypes": [{"ID": 1, "Name": "Bug"}]
    }
