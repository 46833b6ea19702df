"""CRM dictionaries through the admin API: a dictionary a field uses cannot be deleted."""

from __future__ import annotations

import httpx

from tests.crm.conftest import CrmApi

API = "/api/json/Crm"


async def add_color_field(crm: CrmApi, table: str, name: str) -> None:
    await crm.admin(
        "POST",
        f"/Tables/{table}/Fields",
        {"Name": name, "FieldType": "Dictionary", "Dictionary": "Colors", "Code": "color"},
    )


class TestDeleteDictionary:
    async def test_a_dictionary_a_field_uses_is_still_used_409(
        self, crm: CrmApi, client: httpx.AsyncClient
    ) -> None:
        await crm.admin("POST", "/Dictionaries", {"Name": "Colors", "Values": ["Red", "Blue"]})
        await add_color_field(crm, "CLIENTS", "Favourite color")
        response = await client.delete(f"{API}/Dictionaries/colors")
        assert response.status_code == 409
        message = response.json()["Error"]["Message"]
        assert message == (
            "The dictionary 'Colors' is still used by field 'Favourite color' (clients-color) "
            "of table Companies; delete those fields first."
        )
        kept = await crm.admin("GET", "/Dictionaries/Colors")
        assert kept["Dictionary"]["Values"] == ["Red", "Blue"]
        await crm.ok("addcompany", **{"clients-org_name": "Adobe", "clients-color": "Red"})

    async def test_every_field_that_uses_it_is_named(
        self, crm: CrmApi, client: httpx.AsyncClient
    ) -> None:
        await crm.admin("POST", "/Dictionaries", {"Name": "Colors", "Values": ["Red"]})
        await add_color_field(crm, "CLIENTS", "Favourite color")
        await add_color_field(crm, "CONTACTS", "Tie color")
        response = await client.delete(f"{API}/Dictionaries/Colors")
        assert response.status_code == 409
        message = response.json()["Error"]["Message"]
        assert "'Favourite color'" in message
        assert "'Tie color'" in message

    async def test_once_its_fields_are_gone_it_can_be_deleted(
        self, crm: CrmApi, client: httpx.AsyncClient
    ) -> None:
        await crm.admin("POST", "/Dictionaries", {"Name": "Colors", "Values": ["Red"]})
        await add_color_field(crm, "CLIENTS", "Favourite color")
        await crm.admin("DELETE", "/Tables/CLIENTS/Fields/color")
        assert (await client.delete(f"{API}/Dictionaries/Colors")).status_code == 204
        assert (await client.get(f"{API}/Dictionaries/Colors")).status_code == 404

    async def test_an_unused_dictionary_is_deleted(
        self, crm: CrmApi, client: httpx.AsyncClient
    ) -> None:
        await crm.admin("POST", "/Dictionaries", {"Name": "Sizes", "Values": ["S", "M"]})
        assert (await client.delete(f"{API}/Dictionaries/Sizes")).status_code == 204


class TestChangeDictionary:
    async def test_its_values_are_replaced(self, crm: CrmApi) -> None:
        await crm.admin("POST", "/Dictionaries", {"Name": "Sizes", "Values": ["S"]})
        changed = await crm.admin("PUT", "/Dictionaries/sizes", {"Name": "SIZES", "Values": ["M"]})
        assert (changed["Dictionary"]["Name"], changed["Dictionary"]["Values"]) == ("Sizes", ["M"])

    async def test_it_cannot_be_renamed(self, crm: CrmApi, client: httpx.AsyncClient) -> None:
        await crm.admin("POST", "/Dictionaries", {"Name": "Sizes", "Values": ["S"]})
        body = {"Dictionary": {"Name": "Shapes", "Values": ["M"]}}
        response = await client.put(f"{API}/Dictionaries/Sizes", json=body)
        assert response.status_code == 409
        assert response.json()["Error"]["Message"] == "Dictionary 'Sizes' cannot be renamed."
        null_name = await client.put(f"{API}/Dictionaries/Sizes", json={"Name": None})
        assert null_name.status_code == 400
        kept = await crm.admin("GET", "/Dictionaries/Sizes")
        assert kept["Dictionary"]["Values"] == ["S"]
