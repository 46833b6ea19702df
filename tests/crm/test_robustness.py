"""No parameters make a 500, and the apiKey never reaches a log line."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.logging import configure_logging
from app.crm.rights import COMMAND_RIGHTS
from tests.crm.conftest import CRM_PATH, CrmApi

KEYS = [
    "companyId", "companyName", "contactId", "contactName", "tableName", "id", "newvalue",
    "valuetoremove", "dictionaryName", "saleVal", "fooVal", "startAt", "maxResults", "issueKey",
    "instanceId", "crm_param_1", "crm_param_1_value", "crm_param_2_value", "clients-org_name",
    "view-clients-org_industry", "clients-clients_field_x", "clients-contact_company",
    "view-clients-contact_company", "Сompany name", "Price", "clients-contact_email",
    "contactLogin", "clients-org_sla",
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(["", "1", "0", "-1", "99999999999999999999", "Adobe", "Colors", "CLIENTS",
                     "CONTACTS", "PRODUCTS", "Company", "Price", "1e400", "NaN", "a,b,,",
                     "2024-02-30", "Consulting", "\ud7ff", "' OR 1=1 --", "%00"]),
    st.text(max_size=40),
)  # fmt: skip
# Named by the request itself, or taken by `CrmApi.call` as its own options: not random ones.
CALL_OWN_NAMES = {"command", "username", "apikey", "method", "user", "key"}
PARAMS = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=12), TEXT, max_size=6)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(command=st.sampled_from(sorted(COMMAND_RIGHTS) + ["", "x"]), params=PARAMS)
async def test_random_parameters_never_give_a_500(
    crm: CrmApi, command: str, params: dict[str, str]
) -> None:
    if command == "sync":
        command = "getcontacts"  # sync calls Jira; its failures are covered in test_jira
    params = {k: v for k, v in params.items() if k.lower() not in CALL_OWN_NAMES}
    for method in ("GET", "POST"):
        response = await crm.call(command, method=method, **params)
        assert response.status_code < 500, (command, params, response.text)
        assert response.json()["success"] is (response.status_code == 200)


async def test_nul_bytes_and_bad_utf8_are_400(crm: CrmApi) -> None:
    raw = f"{CRM_PATH}?command=getcompanybyname&userName=jira.admin&apiKey=x&companyName=%00"
    assert (await crm.client.get(raw)).status_code in (400, 401)
    bad = await crm.client.get(f"{CRM_PATH}?command=%ff%fe&userName=%ff")
    assert bad.status_code == 401


async def test_api_key_never_reaches_a_log_line(
    crm: CrmApi, capfd: pytest.CaptureFixture[str], settings: Any
) -> None:
    secret = "crm-api-key-0123456789"
    configure_logging("DEBUG", "json")
    try:
        await crm.call("getcompanies")  # 200
        await crm.call("getcompanybyname", companyName="Missing")  # 404
        await crm.call("addcompany", method="POST")  # 400, key in the form body
        await crm.client.get(f"{CRM_PATH}?apiKey={secret}-wrong&userName=x&command=getcompanies")
        # What uvicorn's own access logger would write (it is replaced by our middleware's line).
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"{CRM_PATH}?apiKey={secret}", "1.1", 200
        )
        logging.getLogger("app.test").warning("request to %s?apiKey=%s", CRM_PATH, secret)
    finally:
        configure_logging(settings.log_level, settings.log_format)
    out, err = capfd.readouterr()
    lines = out + err
    assert "http.request" in lines
    assert "apiKey=***" in lines
    assert secret not in lines
