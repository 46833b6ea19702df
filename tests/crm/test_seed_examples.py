"""Every example URL of the CRM API seed, as written (with real values for `${…}`), each on a
database set up through the same API: companies Adobe, Teamlead, …, contacts Ted Johnson,
Vladimir Putin, …, the Colors dictionary and two custom company fields."""

from __future__ import annotations

from typing import Any

import pytest

from app.crm import records, tables
from tests.crm.conftest import CrmApi

SERVICES_FIELD = "clients_field_d1facd51-01e0-4a68-a4f3-4aa3641a590e"
NOTES_FIELD = "clients_field_d8927b73-09ba-4094-b281-af6738e4432d"


async def add_fillers(app: Any, table: str, field: str, numbers: range) -> None:
    """Records that only take up ids (through the service layer, not HTTP)."""
    async with app.state.session_factory() as session:
        schema = await tables.load_table(session, table)
        await records.bulk_create(session, schema, [{field: f"Filler {n}"} for n in numbers])
        await session.commit()


@pytest.fixture
async def world(crm: CrmApi, app: Any) -> CrmApi:
    await crm.admin("POST", "/Dictionaries", {"Name": "Colors", "Values": ["Red", "Blue"]})
    await crm.admin(
        "POST",
        "/Tables/CLIENTS/Fields",
        {
            "Name": "Services",
            "FieldType": "MultiDictionary",
            "Dictionary": "Industries",
            "Code": SERVICES_FIELD,
        },
    )
    await crm.admin("POST", "/Tables/CLIENTS/Fields", {"Name": "Notes", "Code": NOTES_FIELD})
    for name in ["Adobe", "Teamlead", "Company 3"]:
        await crm.ok("addcompany", **{"clients-org_name": name})
    await add_fillers(app, "CLIENTS", "org_name", range(4, 15))
    await crm.ok("addcompany", **{"clients-org_name": "Company 15"})
    await crm.ok("addcontact", **{"clients-contact_name": "Ted Johnson"})
    await crm.ok(
        "addcontact",
        **{"clients-contact_name": "Vladimir Putin", "view-clients-contact_company": "Teamlead"},
    )
    await crm.ok(
        "addcontact", **{"clients-contact_name": "Contact 3", "clients-contact_company": "2"}
    )
    await add_fillers(app, "CONTACTS", "contact_name", range(4, 6))
    await crm.ok("addcontact", **{"clients-contact_name": "Contact 6"})
    return crm


class TestSeedExamples:
    async def test_register_adobe_to_ted_johnson(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}"
            "&command=setcontact&companyName=Adobe&contactName=TedJohnson"
        )
        assert response.status_code == 200, response.text
        ted = await world.ok("getcontactbyname", contactName="Ted Johnson")
        assert ted["contact_company"] == "Adobe"
        assert ted["contact_company_id"] == "1"

    async def test_add_contact_6_to_company_15(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}"
            "&command=setcontact&companyId=15&contactId=6"
        )
        assert response.status_code == 200, response.text
        contact = await world.ok("getcontactbyname", contactId="6")
        assert contact["contact_company"] == "Company 15"

    async def test_add_contact_with_attributes(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?command=addcontact&userName=${userName}&apiKey=${apiKey}"
            "&clients-contact_name=new contact&clients-contact_company=newCompany"
            "&view-clients-contact_company=newCompany&clients-contact_email=new@new.com"
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["success"] is True
        assert body["id"] == "7"
        assert body["contact_name"] == "new contact"
        assert body["contact_email"] == "new@new.com"
        assert body["contact_company"] == "newCompany"
        company = await world.ok("getcompanybyname", companyName="newCompany")
        assert company["id"] == body["contact_company_id"]

    async def test_add_company_with_attributes(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}&command=addcompany"
            "&clients-org_name=test Company Name&clients-org_www=test.com&tableName=CLIENTS"
            "&view-clients-org_industry=Consulting&view-clients-org_sla=SLA-1 Free"
        )
        assert response.status_code == 200, response.text
        stored = await world.ok("getcompanybyname", companyName="test Company Name")
        assert stored["org_www"] == "test.com"
        assert stored["org_industry"] == "Consulting"
        assert stored["org_sla"] == "SLA-1 Free"
        assert stored["byName"]["Company name"] == "test Company Name"

    async def test_receive_all_organizations(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}&command=getcompanies"
        )
        body = response.json()
        assert body["success"] is True
        assert body["total"] == 15
        assert [c["name"] for c in body["companies"][:2]] == ["Adobe", "Teamlead"]
        assert body["companies"][0]["id"] == "1"
        assert {"org_type", SERVICES_FIELD} <= set(body["companies"][0])

    async def test_receive_all_contacts(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}&command=getcontacts"
        )
        body = response.json()
        assert body["total"] == 6
        assert body["contacts"][0]["contact_name"] == "Ted Johnson"

    async def test_receive_organization_by_id(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}"
            "&command=getcompanybyname&companyId=2"
        )
        assert response.json()["org_name"] == "Teamlead"

    async def test_receive_organization_by_name(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}"
            "&command=getcompanybyname&companyName=Teamlead"
        )
        assert response.json()["id"] == "2"

    async def test_receive_contact_by_id(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}"
            "&command=getcontactbyname&contactId=2"
        )
        assert response.json()["contact_name"] == "Vladimir Putin"

    async def test_receive_contact_by_name(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?apiKey=${apiKey}&userName=${userName}"
            "&command=getcontactbyname&contactName=Vladimir Putin"
        )
        body = response.json()
        assert body["id"] == "2"
        assert body["contact_company"] == "Teamlead"

    async def test_add_value_to_dictionary(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?command=adddictionaryvalue&userName=${userName}"
            "&apiKey=${apiKey}&dictionaryName=Colors&newvalue=Green"
        )
        assert response.status_code == 200, response.text
        colors = await world.admin("GET", "/Dictionaries/Colors")
        assert colors["Dictionary"]["Values"] == ["Red", "Blue", "Green"]

    async def test_remove_value_from_dictionary(self, world: CrmApi) -> None:
        await world.ok("adddictionaryvalue", dictionaryName="Colors", newvalue="Green")
        response = await world.url(
            "/plugins/servlet/crm/api?command=removedictionaryvalue&userName=${userName}"
            "&apiKey=${apiKey}&dictionaryName=Colors&valuetoremove=Green"
        )
        assert response.status_code == 200, response.text
        colors = await world.admin("GET", "/Dictionaries/Colors")
        assert colors["Dictionary"]["Values"] == ["Red", "Blue"]

    async def test_search_contacts_of_teamlead(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?command=searchEntities&crm_param_1=Company"
            "&crm_param_1_value=Teamlead&tableName=CONTACTS&userName=${userName}&apiKey=${apiKey}"
        )
        body = response.json()
        assert body["total"] == 2
        assert [e["name"] for e in body["entities"]] == ["Vladimir Putin", "Contact 3"]

    async def test_edit_contact(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?command=editcontact&apiKey=${apiKey}&userName=${userName}"
            "&contactId=1&view-clients-contact_position=CTO&clients-contact_position=CTO"
            "&clients-contact_email=ted@example.com&clients-contact_login=${userName}"
        )
        assert response.status_code == 200, response.text
        ted = await world.ok("getcontactbyname", contactId="1")
        assert (ted["contact_position"], ted["contact_email"]) == ("CTO", "ted@example.com")
        assert ted["contact_login"] == "jira.admin"
        assert ted["contact_name"] == "Ted Johnson"

    async def test_edit_company_multi_value_dictionary(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?command=editcompany&apiKey=${apiKey}&userName=${userName}"
            f"&companyId=2&view-clients-{SERVICES_FIELD}=Development,Training"
            f"&clients-{SERVICES_FIELD}=Development,Training"
        )
        assert response.status_code == 200, response.text
        teamlead = await world.ok("getcompanybyname", companyId="2")
        assert teamlead[SERVICES_FIELD] == "Development,Training"
        found = await world.ok(
            "searchentities",
            tableName="CLIENTS",
            crm_param_1="Services",
            crm_param_1_value="training",
        )
        assert [c["id"] for c in found["entities"]] == ["2"]

    async def test_edit_company_custom_text_field(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?command=editcompany&apiKey=${apiKey}&userName=${userName}"
            f"&companyId=2&clients-{NOTES_FIELD}=testest"
        )
        assert response.status_code == 200, response.text
        assert (await world.ok("getcompanybyname", companyId="2"))[NOTES_FIELD] == "testest"

    async def test_edit_company_by_field_name_with_cyrillic_letter(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?command=editcompany&apiKey=${apiKey}&userName=${userName}"
            "&companyId=2&Сompany name=Teamlead Group"  # the С is Cyrillic, as in the seed
        )
        assert response.status_code == 200, response.text
        assert (await world.ok("getcompanybyname", companyId="2"))["org_name"] == "Teamlead Group"
        renamed = await world.ok("getcompanybyname", companyName="teamlead group")
        assert renamed["id"] == "2"

    async def test_search_transactions_by_issue(self, world: CrmApi) -> None:
        for name, sale in [("Licence", "CRM-1"), ("Support", "CRM-2"), ("Upgrade", "CRM-1")]:
            await world.ok(
                "updateOrCreateEntity",
                tableName="TRANSACTIONS",
                crm_param_1="Name",
                crm_param_1_value=name,
                crm_param_2="Sale",
                crm_param_2_value=sale,
            )
        response = await world.url(
            "/plugins/servlet/crm/api?command=transactionslist&userName=${userName}"
            "&apiKey=${apiKey}&saleVal=CRM-1"
        )
        body = response.json()
        assert body["total"] == 2
        assert [t["transaction_name"] for t in body["transactions"]] == ["Licence", "Upgrade"]

    async def test_update_or_create_entity(self, world: CrmApi) -> None:
        response = await world.url(
            "/plugins/servlet/crm/api?command=updateOrCreateEntity&userName=&apiKey="
            "&tableName=PRODUCTS&crm_param_1=Product%20Name&crm_param_1_value=Test&id="
            "&crm_param_2=Price&crm_param_2_value=10&crm_param_3=Vendor"
            "&crm_param_3_value=Atlassian&crm_param_4=area&crm_param_4_value=area".replace(
                "userName=&apiKey=", "userName=${userName}&apiKey=${apiKey}"
            )
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["created"] is True
        assert (body["product_name"], body["product_price"]) == ("Test", "10")
        assert (body["product_vendor"], body["product_area"]) == ("Atlassian", "area")
        again = await world.ok(
            "updateOrCreateEntity",
            tableName="PRODUCTS",
            id=body["id"],
            crm_param_1="Price",
            crm_param_1_value="12.50",
        )
        assert again["created"] is False
        assert (again["product_name"], again["product_price"]) == ("Test", "12.5")


class TestCurrentCommands:
    async def test_delete_company(self, world: CrmApi) -> None:
        body = await world.ok("deletecompany", companyName="Teamlead")
        assert body["id"] == "2"
        response = await world.call("getcompanybyname", companyId="2")
        assert response.status_code == 404
        vladimir = await world.ok("getcontactbyname", contactId="2")
        assert vladimir["contact_company"] == ""

    async def test_get_contact_email(self, world: CrmApi) -> None:
        await world.ok("editcontact", contactId="1", **{"clients-contact_email": "ted@adobe.com"})
        body = await world.ok("getContactEmail", contactName="Ted Johnson")
        assert body["email"] == "ted@adobe.com"
