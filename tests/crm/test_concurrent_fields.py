"""Field names equal once normalised (case, spacing, underscores, full-width and look-alike
letters) are one name, in the database too: of concurrent creations one wins, and the field stays
addressable by any spelling of its name."""

from __future__ import annotations

import asyncio

import pytest

from tests.crm.conftest import CrmApi

SPELLINGS = ["Pet name", "pet name", "PET_NAME", "Pet  Name", "pet-name", "Ｐｅｔ name", "Реt name"]


async def test_concurrent_creations_of_one_name_make_one_field(crm: CrmApi) -> None:
    answers = await asyncio.gather(
        *(
            crm.client.post("/api/json/Crm/Tables/CLIENTS/Fields", json={"Name": name})
            for name in SPELLINGS
        )
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * (len(SPELLINGS) - 1)
    fields = await crm.admin("GET", "/Tables/CLIENTS/Fields")
    assert len([f for f in fields["Fields"] if f["Name"] in SPELLINGS]) == 1

    added = await crm.ok("addcompany", **{"clients-org_name": "Acme", "PET_NAME": "Rex"})
    company = await crm.ok("getcompanybyname", companyId=str(added["id"]))
    assert "Rex" in company.values()


@pytest.mark.parametrize("later", SPELLINGS[1:])
async def test_a_later_spelling_of_a_taken_name_is_409(crm: CrmApi, later: str) -> None:
    await crm.admin("POST", "/Tables/CLIENTS/Fields", {"Name": SPELLINGS[0]})
    response = await crm.client.post("/api/json/Crm/Tables/CLIENTS/Fields", json={"Name": later})
    assert response.status_code == 409
    assert "already has a field named" in response.json()["Error"]["Message"]
