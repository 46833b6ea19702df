"""`setcrmproperties` and `sync` against the Jira simulator (the service's Jira calls go to it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from app.crm.rights import ALL_RIGHTS
from app.jobs.models import JobStatus, SyncJob
from app.main import create_app
from jirasim import JiraSimulator
from tests.conftest import BOTH_JIRAS, api_client, started
from tests.crm.conftest import API_KEY, USER, CrmApi
from tests.support.jobs import drain
from tests.support.world import make_instance

pytestmark = BOTH_JIRAS


@pytest.fixture
def sim(jira_sim: JiraSimulator) -> JiraSimulator:
    jira_sim.add_field("CRM Property", "string")
    return jira_sim


@pytest.fixture
async def jira_app(make_settings: Any, db: Any, sim: JiraSimulator) -> AsyncIterator[Any]:
    settings = make_settings(jira_max_retries=0)
    application = create_app(settings, jira_transport=httpx.ASGITransport(app=sim.app))
    async with started(application):
        async with application.state.session_factory() as session:
            instance = await make_instance(session)
            instance.crm_property_field = "CRM Property"
            await session.commit()
        yield application


@pytest.fixture
async def jira_crm(jira_app: Any) -> AsyncIterator[CrmApi]:
    async with api_client(jira_app) as http:
        api = CrmApi(http)
        await api.admin("PUT", "/Settings", {"ApiKey": API_KEY})
        await api.admin("PUT", f"/Users/{USER}", {"Rights": list(ALL_RIGHTS)})
        yield api


async def job_status(application: Any) -> str | None:
    async with application.state.session_factory() as session:
        status: str | None = await session.scalar(
            select(col(SyncJob.status)).where(col(SyncJob.kind) == "crm.set_properties")
        )
        return status


class TestSetCrmProperties:
    async def test_writes_the_issue_field_through_the_worker(
        self, jira_app: Any, jira_crm: CrmApi, sim: JiraSimulator
    ) -> None:
        issue = sim.create_issue("DEMO", "Customer asks for a quote")
        await jira_crm.ok("addcompany", **{"clients-org_name": "Adobe"})
        await jira_crm.ok("addcontact", **{"clients-contact_name": "Ted Johnson"})
        body = await jira_crm.ok(
            "setcrmproperties", issueKey=issue.key, companyName="Adobe", contactId="1"
        )
        assert body["status"] == "Pending"
        assert await drain(jira_app) == 1
        field = sim.field_id("CRM Property")
        value = sim.get_issue(issue.key)["fields"][field]
        assert value == "Company: Adobe (id 1); Contact: Ted Johnson (id 1)"
        assert await job_status(jira_app) == JobStatus.DONE

    async def test_a_missing_issue_fails_the_job_without_retrying(
        self, jira_app: Any, jira_crm: CrmApi
    ) -> None:
        await jira_crm.ok("addcompany", **{"clients-org_name": "Adobe"})
        await jira_crm.ok("setcrmproperties", issueKey="DEMO-999", companyId="1")
        await drain(jira_app)
        assert await job_status(jira_app) == JobStatus.FAILED

    async def test_unknown_company_is_404_and_queues_nothing(
        self, jira_app: Any, jira_crm: CrmApi
    ) -> None:
        response = await jira_crm.call("setcrmproperties", issueKey="DEMO-1", companyName="Nope")
        assert response.status_code == 404
        assert await drain(jira_app) == 0


class TestSync:
    async def test_imports_jira_users_as_contacts(
        self, jira_crm: CrmApi, sim: JiraSimulator
    ) -> None:
        for n in range(120):  # more than one page of the user search
            sim.add_user(f"user{n:03}", display_name=f"User {n:03}", email=f"u{n}@example.com")
        body = await jira_crm.ok("sync")
        users = len(sim.state.users)
        people = users - 1  # the integration user is none
        assert (body["created"], body["updated"], body["users"]) == (people, 0, users)
        contacts = await jira_crm.ok("getcontacts", maxResults="1000")
        assert contacts["total"] == people
        jdoe = await jira_crm.ok("getcontactbyname", contactName="John Doe")
        jdoe_user = sim.state.users["jdoe"]
        login = jdoe_user.name if sim.flavor == "server" else jdoe_user.account_id
        assert jdoe["contact_login"] == login
        # Jira Cloud hides e-mail addresses; Server/Data Center shows them.
        hidden = sim.flavor == "cloud"
        assert jdoe.get("contact_email", "") == ("" if hidden else "jdoe@example.com")

    async def test_skips_inactive_users_apps_and_the_integration_user_and_says_so(
        self, jira_crm: CrmApi, sim: JiraSimulator
    ) -> None:
        sim.add_user("gone", display_name="Gone Away", active=False)
        sim.add_user("bot", display_name="Automation for Jira", account_type="app")
        body = await jira_crm.ok("sync")
        apps = 1 if sim.flavor == "cloud" else 0  # Server/Data Center has no account types
        assert body["created"] == 2 - apps  # John Doe (and, on Server, the bot)
        assert body["skipped"] == 2 + apps
        assert body["skippedBecause"] == {
            "inactive": 1,
            "the integration user": 1,
        } | ({"app account": 1} if apps else {})
        names = {c["contact_name"] for c in (await jira_crm.ok("getcontacts"))["contacts"]}
        assert "Gone Away" not in names
        assert "Helpdesk Integration" not in names

    async def test_second_run_creates_no_duplicates_and_updates_changes(
        self, jira_crm: CrmApi, sim: JiraSimulator
    ) -> None:
        first = await jira_crm.ok("sync")
        sim.state.users["jdoe"].display_name = "John Q. Doe"
        second = await jira_crm.ok("sync")
        assert second["created"] == 0
        assert second["updated"] == 1
        assert second["unchanged"] == first["created"] - 1
        contacts = await jira_crm.ok("getcontacts")
        assert contacts["total"] == first["created"]
        assert await jira_crm.ok("getcontactbyname", contactName="John Q. Doe")

    async def test_jira_down_is_a_502_not_a_500(self, jira_crm: CrmApi, sim: JiraSimulator) -> None:
        sim.add_fault("GET", ".*/users?/search.*", status=503, times=100)
        response = await jira_crm.call("sync")
        assert response.status_code == 502
        assert response.json()["success"] is False
