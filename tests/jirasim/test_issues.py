from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from jirasim import JiraSimulator

from .conftest import BASE_URL

SEVERITY = "customfield_10010"


def bug(project: str = "SUP", fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "fields": {
            "project": {"key": project},
            "issuetype": {"name": "Bug"},
            "summary": "Printer on fire",
            **(fields or {}),
        }
    }


class TestCreateIssue:
    async def test_missing_required_custom_field_is_400(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/rest/api/2/issue", json=bug())
        assert r.status_code == 400
        assert r.json() == {"errorMessages": [], "errors": {SEVERITY: "Severity is required."}}

    async def test_missing_summary_and_unknown_project(self, client: httpx.AsyncClient) -> None:
        body = bug("DEMO")
        del body["fields"]["summary"]
        r = await client.post("/rest/api/2/issue", json=body)
        assert r.json()["errors"] == {"summary": "You must specify a summary of the issue."}
        r = await client.post("/rest/api/2/issue", json=bug("NOPE"))
        assert r.json()["errors"] == {"project": "Specify a valid project ID or key"}

    async def test_value_shapes_are_checked_against_the_schema(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.add_field("Impact", "number")
        sim.add_field("Areas", "array:option", ["UI", "API"])
        r = await client.post(
            "/rest/api/2/issue",
            json=bug(
                fields={
                    SEVERITY: {"value": "Apocalyptic"},
                    "customfield_10012": "12",
                    "customfield_10013": [{"value": "UI"}, {"id": "999"}],
                    "labels": ["two words"],
                    "customfield_99999": "x",
                }
            ),
        )
        assert r.status_code == 400
        assert r.json()["errors"] == {
            SEVERITY: "Option value 'Apocalyptic' is not valid",
            "customfield_10012": "Operation value must be a number",
            "customfield_10013": "Option id '999' is not valid",
            "labels": "The label 'two words' contains spaces which is invalid.",
            "customfield_99999": "Field 'customfield_99999' cannot be set. It is not on the "
            "appropriate screen, or unknown.",
        }

    async def test_create_and_get(self, client: httpx.AsyncClient) -> None:
        body = bug(fields={SEVERITY: {"id": "10101"}, "description": "smoke", "labels": ["hd"]})
        body["properties"] = [{"key": "helpdesk", "value": {"ticketId": 42}}]
        r = await client.post("/rest/api/2/issue", json=body)
        assert r.status_code == 201
        assert r.json() == {
            "id": "10000",
            "key": "SUP-1",
            "self": f"{BASE_URL}/rest/api/2/issue/10000",
        }

        r = await client.get("/rest/api/2/issue/SUP-1", params={"properties": "helpdesk"})
        issue = r.json()
        fields = issue["fields"]
        assert issue["id"] == "10000"
        assert fields["summary"] == "Printer on fire"
        assert fields["status"]["name"] == "To Do"
        assert fields["status"]["statusCategory"]["key"] == "new"
        assert fields["issuetype"] == {**fields["issuetype"], "id": "10000", "name": "Bug"}
        assert fields["project"]["key"] == "SUP"
        assert fields[SEVERITY] == {
            "self": f"{BASE_URL}/rest/api/2/customFieldOption/10101",
            "value": "High",
            "id": "10101",
        }
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", fields["updated"])
        assert issue["properties"] == {"helpdesk": {"ticketId": 42}}
        r = await client.get("/rest/api/2/issue/10000/properties/helpdesk")
        assert r.json() == {"key": "helpdesk", "value": {"ticketId": 42}}

    async def test_keys_count_per_project(self, sim: JiraSimulator) -> None:
        keys = [sim.create_issue(p, "x").key for p in ("DEMO", "SUP", "DEMO")]
        assert keys == ["DEMO-1", "SUP-1", "DEMO-2"]

    async def test_fields_parameter_limits_the_answer(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("DEMO", "x")
        r = await client.get("/rest/api/2/issue/DEMO-1", params={"fields": "summary,status"})
        assert set(r.json()["fields"]) == {"summary", "status"}


class TestMetadata:
    async def test_fields_list_custom_with_schema(self, client: httpx.AsyncClient) -> None:
        fields = {f["id"]: f for f in (await client.get("/rest/api/2/field")).json()}
        assert fields[SEVERITY]["name"] == "Severity"
        assert fields[SEVERITY]["custom"] is True
        assert fields[SEVERITY]["schema"] == {
            "type": "option",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
            "customId": 10010,
        }
        assert fields["summary"]["schema"] == {"type": "string", "system": "summary"}

    async def test_projects(self, client: httpx.AsyncClient) -> None:
        keys = [p["key"] for p in (await client.get("/rest/api/2/project")).json()]
        assert keys == ["DEMO", "SUP"]
        r = await client.get("/rest/api/2/project/SUP")
        assert [t["name"] for t in r.json()["issueTypes"]] == ["Bug", "Task", "Story"]
        assert (await client.get("/rest/api/2/project/NOPE")).status_code == 404

    async def test_createmeta_old_style(self, client: httpx.AsyncClient) -> None:
        r = await client.get(
            "/rest/api/2/issue/createmeta",
            params={
                "projectKeys": "SUP",
                "issuetypeNames": "Bug",
                "expand": "projects.issuetypes.fields",
            },
        )
        (project,) = r.json()["projects"]
        (bug_type,) = project["issuetypes"]
        severity = bug_type["fields"][SEVERITY]
        assert project["key"] == "SUP"
        assert severity["required"] is True
        assert [v["value"] for v in severity["allowedValues"]] == [
            "Critical",
            "High",
            "Medium",
            "Low",
        ]

    @pytest.mark.parametrize("jira_flavor", ["server"])
    async def test_server_has_no_per_project_createmeta(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/rest/api/2/issue/createmeta/SUP/issuetypes")
        assert r.status_code == 404

    async def test_createmeta_new_style_paged(self, client: httpx.AsyncClient) -> None:
        types = (await client.get("/rest/api/2/issue/createmeta/SUP/issuetypes")).json()
        assert types["total"] == 3
        bug_id = next(t["id"] for t in types["values"] if t["name"] == "Bug")
        url = f"/rest/api/2/issue/createmeta/SUP/issuetypes/{bug_id}"
        page = (await client.get(url, params={"maxResults": 2})).json()
        assert page["maxResults"] == 2
        assert page["isLast"] is False
        everything = (await client.get(url)).json()["values"]
        severity = next(v for v in everything if v["fieldId"] == SEVERITY)
        assert severity["required"] is True
        assert severity["schema"]["type"] == "option"
        assert {"fieldId": "summary", "required": True}.items() <= everything[0].items()


class TestEditTransitionMoveDelete:
    async def test_put_fields_and_update_then_changelog(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        issue = sim.create_issue("DEMO", "old")
        before = sim.issue("DEMO-1").updated
        r = await client.put(
            "/rest/api/2/issue/DEMO-1",
            json={"fields": {"summary": "new"}, "update": {"labels": [{"add": "x"}]}},
        )
        assert r.status_code == 204
        assert issue.updated >= before
        r = await client.get("/rest/api/2/issue/DEMO-1", params={"expand": "changelog"})
        items = r.json()["changelog"]["histories"][-1]["items"]
        assert {i["field"]: (i["fromString"], i["toString"]) for i in items} == {
            "summary": ("old", "new"),
            "labels": (None, "x"),
        }

    async def test_transitions_reach_every_status(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("DEMO", "x")
        transitions = (await client.get("/rest/api/2/issue/DEMO-1/transitions")).json()
        names = {t["name"]: t["id"] for t in transitions["transitions"]}
        assert set(names) == {"In Progress", "Done"}
        r = await client.post(
            "/rest/api/2/issue/DEMO-1/transitions", json={"transition": {"id": names["Done"]}}
        )
        assert r.status_code == 204
        fields = (await client.get("/rest/api/2/issue/DEMO-1")).json()["fields"]
        assert fields["status"]["name"] == "Done"
        assert fields["resolution"]["name"] == "Done"
        r = await client.post(
            "/rest/api/2/issue/DEMO-1/transitions", json={"transition": {"id": "9"}}
        )
        assert r.status_code == 400

    async def test_ui_actions_record_changelog_with_increasing_ids(
        self, sim: JiraSimulator
    ) -> None:
        sim.create_issue("DEMO", "x")
        sim.transition_issue("DEMO-1", "In Progress")
        sim.edit_issue("DEMO-1", {"Severity": "Low", "summary": "y"})
        sim.add_comment("DEMO-1", "hello")
        ids = [int(e.id) for e in sim.state.changelog]
        assert ids == sorted(ids)
        assert len(set(ids)) == 4
        edit = sim.state.changelog[2].items
        assert [(i.field, i.fieldtype, i.field_id, i.to_string) for i in edit] == [
            ("Severity", "custom", SEVERITY, "Low"),
            ("summary", "jira", "summary", "y"),
        ]

    async def test_move_keeps_old_key_resolvable(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("DEMO", "x", issue_type="Story")
        sim.move_issue("DEMO-1", "SUP")
        r = await client.get("/rest/api/2/issue/DEMO-1")
        assert r.status_code == 200
        assert r.json()["key"] == "SUP-1"
        assert r.json()["fields"]["project"]["key"] == "SUP"
        items = sim.state.changelog[-1].items
        assert [(i.field, i.from_string, i.to_string) for i in items] == [
            ("project", "Demo Project", "Support"),
            ("Key", "DEMO-1", "SUP-1"),
        ]
        r = await client.get("/rest/api/2/search/jql", params={"jql": "key = DEMO-1"})
        assert [i["key"] for i in r.json()["issues"]] == ["SUP-1"]

    async def test_delete(self, sim: JiraSimulator, client: httpx.AsyncClient) -> None:
        sim.create_issue("DEMO", "x")
        assert (await client.delete("/rest/api/2/issue/DEMO-1")).status_code == 204
        r = await client.get("/rest/api/2/issue/DEMO-1")
        assert r.status_code == 404
        assert r.json()["errorMessages"] == [
            "Issue does not exist or you do not have permission to see it."
        ]


class TestRemoteLinks:
    async def test_global_id_upserts(self, sim: JiraSimulator, client: httpx.AsyncClient) -> None:
        sim.create_issue("DEMO", "x")
        link = {
            "globalId": "helpdesk:ticket=7",
            "application": {"type": "helpdesk", "name": "Helpdesk"},
            "object": {"url": "https://hd.example/7", "title": "Ticket 7"},
        }
        first = await client.post("/rest/api/2/issue/DEMO-1/remotelink", json=link)
        assert first.status_code == 201
        assert first.json() == {
            "id": 10000,
            "self": f"{BASE_URL}/rest/api/2/issue/DEMO-1/remotelink/10000",
        }
        link["object"] = {"url": "https://hd.example/7", "title": "Ticket 7 (renamed)"}
        second = await client.post("/rest/api/2/issue/DEMO-1/remotelink", json=link)
        assert second.status_code == 200
        assert second.json()["id"] == 10000
        links = (await client.get("/rest/api/2/issue/DEMO-1/remotelink")).json()
        assert len(links) == 1
        assert links[0]["object"]["title"] == "Ticket 7 (renamed)"
        assert links[0]["globalId"] == "helpdesk:ticket=7"

    async def test_without_global_id_adds_and_requires_url_title(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("DEMO", "x")
        link = {"object": {"url": "https://hd.example/7", "title": "T"}}
        for _ in range(2):
            await client.post("/rest/api/2/issue/DEMO-1/remotelink", json=link)
        assert len((await client.get("/rest/api/2/issue/DEMO-1/remotelink")).json()) == 2
        r = await client.post("/rest/api/2/issue/DEMO-1/remotelink", json={"object": {}})
        assert r.status_code == 400
        assert set(r.json()["errors"]) == {"url", "title"}
