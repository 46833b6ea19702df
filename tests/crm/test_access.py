"""Who may call what: the API key, the user, each command's right; admin behind the API token."""

from __future__ import annotations

import pytest

from app.crm.rights import ALL_RIGHTS, COMMAND_RIGHTS
from tests.crm.conftest import API_KEY, CrmApi


class TestAuthentication:
    async def test_wrong_key_is_401(self, crm: CrmApi) -> None:
        response = await crm.call("getcompanies", key="wrong-key-wrong-key")
        assert response.status_code == 401
        assert response.json()["success"] is False
        assert "apiKey" in response.json()["error"]

    async def test_missing_key_is_401(self, crm: CrmApi) -> None:
        assert (await crm.call("getcompanies", key=None)).status_code == 401

    async def test_unknown_user_is_401(self, crm: CrmApi) -> None:
        assert (await crm.call("getcompanies", user="nobody")).status_code == 401

    async def test_no_key_configured_is_401(self, client: object) -> None:
        api = CrmApi(client)  # type: ignore[arg-type]
        assert (await api.call("getcompanies")).status_code == 401

    async def test_user_name_and_command_are_case_insensitive(self, crm: CrmApi) -> None:
        assert (await crm.call("GetCompanies", user="JIRA.Admin")).status_code == 200

    async def test_form_post_works_like_get(self, crm: CrmApi) -> None:
        response = await crm.call("addcompany", method="POST", **{"clients-org_name": "Форма ООО"})
        assert response.status_code == 200, response.text
        assert (await crm.ok("getcompanybyname", companyName="форма ооо"))["id"] == "1"

    async def test_admin_needs_the_api_token(self, crm: CrmApi) -> None:
        response = await crm.client.put(
            "/api/json/Crm/Settings", json={"ApiKey": "x" * 20}, auth=("a", "not-the-token")
        )
        assert response.status_code == 401

    async def test_api_key_is_not_stored_in_clear(self, crm: CrmApi, app: object) -> None:
        from sqlalchemy import select

        from app.crm.models import CrmSettings

        async with app.state.session_factory() as session:  # type: ignore[attr-defined]
            row = await session.scalar(select(CrmSettings))
        assert row is not None
        assert API_KEY not in (row.api_key_hash or "")

    async def test_unknown_right_is_400(self, crm: CrmApi) -> None:
        response = await crm.client.put("/api/json/Crm/Users/bob", json={"Rights": ["Fly"]})
        assert response.status_code == 400


@pytest.mark.parametrize(("command", "right"), sorted(COMMAND_RIGHTS.items()))
async def test_rights_matrix(crm: CrmApi, command: str, right: str) -> None:
    """Without its right a command is 403; with only its right it is never 401 or 403."""
    others = [name for name in ALL_RIGHTS if name != right]
    await crm.admin("PUT", "/Users/without", {"Rights": others})
    await crm.admin("PUT", "/Users/with", {"Rights": [right]})
    denied = await crm.call(command, user="without")
    assert denied.status_code == 403, denied.text
    assert right in denied.json()["error"]
    allowed = await crm.call(command, user="with")
    assert allowed.status_code not in (401, 403, 500), allowed.text


class TestErrors:
    async def test_unknown_command_is_400_naming_it(self, crm: CrmApi) -> None:
        response = await crm.call("fly")
        assert response.status_code == 400
        assert "command" in response.json()["error"]

    async def test_unknown_field_is_400_naming_it(self, crm: CrmApi) -> None:
        response = await crm.call(
            "addcompany", **{"clients-org_name": "Adobe", "clients-org_colour": "red"}
        )
        assert response.status_code == 400
        assert "clients-org_colour" in response.json()["error"]

    async def test_unknown_search_field_is_400_naming_the_parameter(self, crm: CrmApi) -> None:
        response = await crm.call(
            "searchentities", tableName="CONTACTS", crm_param_1="Shoe size", crm_param_1_value="9"
        )
        assert response.status_code == 400
        assert "crm_param_1" in response.json()["error"]
        assert "Shoe size" in response.json()["error"]

    async def test_bad_dictionary_value_is_400_naming_the_parameter(self, crm: CrmApi) -> None:
        response = await crm.call(
            "addcompany", **{"clients-org_name": "A", "view-clients-org_sla": "Gold"}
        )
        assert response.status_code == 400
        assert "view-clients-org_sla" in response.json()["error"]

    async def test_bad_number_is_400(self, crm: CrmApi) -> None:
        response = await crm.call(
            "updateOrCreateEntity",
            tableName="PRODUCTS",
            crm_param_1="Product Name",
            crm_param_1_value="X",
            crm_param_2="Price",
            crm_param_2_value="ten",
        )
        assert response.status_code == 400

    async def test_missing_company_is_404(self, crm: CrmApi) -> None:
        response = await crm.call("getcompanybyname", companyName="Nobody Inc")
        assert response.status_code == 404
        assert response.json()["success"] is False

    async def test_missing_table_is_404(self, crm: CrmApi) -> None:
        assert (await crm.call("searchentities", tableName="PLANETS")).status_code == 404

    async def test_ambiguous_contact_name_is_409_listing_the_ids(self, crm: CrmApi) -> None:
        for _ in range(2):
            await crm.ok("addcontact", **{"clients-contact_name": "John Smith"})
        response = await crm.call("getcontactbyname", contactName="john  smith")
        assert response.status_code == 409
        assert "1, 2" in response.json()["error"]

    async def test_duplicate_company_name_is_409(self, crm: CrmApi) -> None:
        await crm.ok("addcompany", **{"clients-org_name": "Adobe"})
        response = await crm.call("addcompany", **{"clients-org_name": "ADOBE"})
        assert response.status_code == 409

    async def test_company_name_is_required(self, crm: CrmApi) -> None:
        response = await crm.call("addcompany", **{"clients-org_www": "x.com"})
        assert response.status_code == 400
        assert "clients-org_name" in response.json()["error"]

    async def test_non_numeric_id_is_400(self, crm: CrmApi) -> None:
        response = await crm.call("getcompanybyname", companyId="abc")
        assert response.status_code == 400
        assert "companyId" in response.json()["error"]
