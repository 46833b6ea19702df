from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from jirasim import JiraSimulator, wiki


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 19, 42, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class TestComments:
    async def test_add_with_visibility_and_properties(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("DEMO", "x")
        r = await client.post(
            "/rest/api/2/issue/DEMO-1/comment",
            json={
                "body": "internal note",
                "visibility": {"type": "role", "value": "Developers"},
                "properties": [{"key": "helpdesk", "value": {"actionId": 9}}],
            },
        )
        assert r.status_code == 201
        comment = r.json()
        assert comment["visibility"] == {"type": "role", "value": "Developers"}
        assert comment["author"]["accountId"]
        assert "emailAddress" not in comment["author"]  # Cloud hides it
        assert comment["self"].endswith(f"/rest/api/2/issue/10000/comment/{comment['id']}")
        listed = (
            await client.get("/rest/api/2/issue/DEMO-1/comment", params={"expand": "properties"})
        ).json()
        assert listed["total"] == 1
        assert listed["comments"][0]["properties"] == [
            {"key": "helpdesk", "value": {"actionId": 9}}
        ]

    async def test_unknown_group_is_rejected(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("DEMO", "x")
        r = await client.post(
            "/rest/api/2/issue/DEMO-1/comment",
            json={"body": "x", "visibility": {"type": "group", "value": "nobody"}},
        )
        assert r.status_code == 400
        assert r.json()["errors"] == {"commentLevel": "Group: nobody does not exist."}

    async def test_paging_edit_delete(self, sim: JiraSimulator, client: httpx.AsyncClient) -> None:
        sim.create_issue("DEMO", "x")
        ids = [sim.add_comment("DEMO-1", f"c{n}", user="jdoe").id for n in range(3)]
        page = (
            await client.get(
                "/rest/api/2/issue/DEMO-1/comment", params={"startAt": 1, "maxResults": 1}
            )
        ).json()
        assert (page["startAt"], page["maxResults"], page["total"]) == (1, 1, 3)
        assert [c["body"] for c in page["comments"]] == ["c1"]
        r = await client.put(f"/rest/api/2/issue/DEMO-1/comment/{ids[0]}", json={"body": "edited"})
        assert r.json()["body"] == "edited"
        assert r.json()["updateAuthor"]["displayName"] == "Helpdesk Integration"
        assert r.json()["author"]["displayName"] == "John Doe"
        assert (
            await client.delete(f"/rest/api/2/issue/DEMO-1/comment/{ids[1]}")
        ).status_code == 204
        r = await client.get(f"/rest/api/2/issue/DEMO-1/comment/{ids[1]}")
        assert r.status_code == 404


class TestRenderedBody:
    async def test_jira_renders_the_wiki_markup_when_asked(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("DEMO", "x")
        made = sim.add_comment("DEMO-1", "*bold* and [a link|https://x.test]\n\n# one", user="jdoe")
        plain = (await client.get(f"/rest/api/2/issue/DEMO-1/comment/{made.id}")).json()
        assert "renderedBody" not in plain
        url = "/rest/api/2/issue/DEMO-1/comment"
        listed = (await client.get(url, params={"expand": "renderedBody"})).json()
        assert listed["comments"][0]["renderedBody"] == (
            '<p><b>bold</b> and <a href="https://x.test" class="external-link">a link</a></p>\n'
            "<ol><li>one</li></ol>"
        )

    @pytest.mark.parametrize(
        ("markup", "html"),
        [
            ("a < b & c", "<p>a &lt; b &amp; c</p>"),
            ("line\nbreak", "<p>line<br/>\nbreak</p>"),
            ("h3. Title", "<h3>Title</h3>"),
            ("\\*not bold\\*", "<p>*not bold*</p>"),
            (
                "{noformat}\n<x>  y\n{noformat}",
                '<div class="preformatted"><pre>&lt;x&gt;  y</pre></div>',
            ),
            ("* a\n** b\n* c", "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>"),
            (
                "[~jdoe] +u+ -s- 2026-11-30",
                '<p><a href="/secure/ViewProfile.jspa?accountId=jdoe" '
                'class="user-hover">John Doe</a> <ins>u</ins> <del>s</del> 2026-11-30</p>',
            ),
        ],
    )
    def test_the_markup_jira_renders(self, sim: JiraSimulator, markup: str, html: str) -> None:
        names = {"jdoe": "John Doe"}
        assert wiki.render(markup, names.get) == html


class TestServiceManagementComments:
    """Comments of a Service Management project (SUP) are public or internal: Cloud says so with
    `jsdPublic`, Server/Data Center only by the `sd.public.comment` property."""

    async def post(self, client: httpx.AsyncClient, key: str, internal: bool | None) -> Any:
        body: dict[str, Any] = {"body": "note"}
        if internal is not None:
            body["properties"] = [{"key": "sd.public.comment", "value": {"internal": internal}}]
        r = await client.post(f"/rest/api/2/issue/{key}/comment", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    @pytest.mark.parametrize(("internal", "public"), [(None, True), (False, True), (True, False)])
    async def test_cloud_tells_with_jsd_public(
        self, sim: JiraSimulator, client: httpx.AsyncClient, internal: bool | None, public: bool
    ) -> None:
        sim.create_issue("SUP", "x")
        comment = await self.post(client, "SUP-1", internal)
        fetched = (await client.get(f"/rest/api/2/issue/SUP-1/comment/{comment['id']}")).json()
        assert (comment["jsdPublic"], fetched["jsdPublic"]) == (public, public)

    async def test_a_software_projects_comments_are_all_public(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("DEMO", "x")
        assert (await self.post(client, "DEMO-1", True))["jsdPublic"] is True

    @pytest.mark.parametrize("jira_flavor", ["server"])
    async def test_server_tells_only_by_the_property(
        self, sim: JiraSimulator, client: httpx.AsyncClient
    ) -> None:
        sim.create_issue("SUP", "x")
        internal = await self.post(client, "SUP-1", True)
        sim.add_comment("SUP-1", "a public reply", user="jdoe")
        listed = (
            await client.get("/rest/api/2/issue/SUP-1/comment", params={"expand": "properties"})
        ).json()["comments"]
        assert "jsdPublic" not in internal
        assert [c["properties"] for c in listed] == [
            [{"key": "sd.public.comment", "value": {"internal": True}}],
            [{"key": "sd.public.comment", "value": {"internal": False}}],
        ]


class TestRemovedSearch:
    @pytest.mark.parametrize("version", ["2", "3"])
    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_cloud_answers_410_gone(
        self, client: httpx.AsyncClient, version: str, method: str
    ) -> None:
        r = await client.request(method, f"/rest/api/{version}/search", params={"jql": ""})
        assert r.status_code == 410
        assert "CHANGE-2046" in r.json()["errorMessages"][0]


@pytest.mark.parametrize("jira_flavor", ["server"])
class TestSearch:
    """The startAt-paged search Server/Data Center still has."""

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    def sim(self, clock: FakeClock, jira_sim: JiraSimulator) -> JiraSimulator:
        sim = jira_sim
        sim.clock = clock
        sim.reset(seed=True)
        for n in range(5):
            clock.now += timedelta(minutes=10)
            sim.create_issue("DEMO" if n % 2 == 0 else "SUP", f"issue {n}", issue_type="Task")
        return sim

    async def search(self, client: httpx.AsyncClient, jql: str, **params: int) -> dict[str, Any]:
        r = await client.get("/rest/api/2/search", params={"jql": jql, **params})
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    async def keys(self, client: httpx.AsyncClient, jql: str) -> list[str]:
        result = await self.search(client, jql)
        return [i["key"] for i in result["issues"]]

    async def test_project_and_order(self, client: httpx.AsyncClient) -> None:
        assert await self.keys(client, "project = DEMO ORDER BY key ASC") == [
            "DEMO-1",
            "DEMO-2",
            "DEMO-3",
        ]
        assert await self.keys(client, "project = SUP ORDER BY updated DESC") == ["SUP-2", "SUP-1"]

    async def test_key_and_id_lists(self, client: httpx.AsyncClient) -> None:
        assert await self.keys(client, "key in (DEMO-1, SUP-2) ORDER BY key") == ["DEMO-1", "SUP-2"]
        assert await self.keys(client, "id in (10000, 10001) ORDER BY id") == ["DEMO-1", "SUP-1"]

    async def test_updated_since_date_or_epoch_ms(
        self, sim: JiraSimulator, clock: FakeClock, client: httpx.AsyncClient
    ) -> None:
        # issues were created at 19:52, 20:02, 20:12, 20:22, 20:32
        jql = 'updated >= "2026/11/23 20:12" ORDER BY updated ASC'
        assert await self.keys(client, jql) == ["DEMO-2", "SUP-2", "DEMO-3"]
        clock.now += timedelta(minutes=1)
        sim.edit_issue("DEMO-1", {"summary": "touched"})
        epoch = int(datetime(2026, 11, 23, 20, 30, tzinfo=UTC).timestamp() * 1000)
        assert await self.keys(client, f"updated >= {epoch} ORDER BY updated") == [
            "DEMO-3",
            "DEMO-1",
        ]
        assert await self.keys(client, 'project = SUP AND created >= "2026-11-23 20:10"') == [
            "SUP-2"
        ]

    async def test_summary_contains(self, client: httpx.AsyncClient) -> None:
        assert await self.keys(client, 'summary ~ "ISSUE 3"') == ["SUP-2"]

    async def test_paging_caps_at_100(self, client: httpx.AsyncClient) -> None:
        result = await self.search(client, "ORDER BY key", startAt=1, maxResults=2)
        assert (result["startAt"], result["maxResults"], result["total"]) == (1, 2, 5)
        assert [i["key"] for i in result["issues"]] == ["DEMO-2", "DEMO-3"]
        assert (await self.search(client, "", maxResults=1000))["maxResults"] == 100

    async def test_post_search_with_fields(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/rest/api/2/search",
            json={"jql": "project = SUP", "fields": ["summary"], "maxResults": 1},
        )
        (issue,) = r.json()["issues"]
        assert set(issue["fields"]) == {"summary"}

    @pytest.mark.parametrize(
        ("jql", "message"),
        [
            ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
            ("key = DEMO-99", "An issue with key 'DEMO-99' does not exist for field 'key'."),
            ("flavour = sweet", "Field 'flavour' does not exist or you do not have permission"),
            ("project = DEMO OR project = SUP", "Expecting either 'AND' or 'ORDER BY'"),
            ("updated >= yesterday", "Date value 'yesterday' for field 'updated' is invalid."),
        ],
    )
    async def test_unsupported_or_bad_jql_is_400(
        self, client: httpx.AsyncClient, jql: str, message: str
    ) -> None:
        r = await client.get("/rest/api/2/search", params={"jql": jql})
        assert r.status_code == 400
        assert message in r.json()["errorMessages"][0]
        assert r.json()["errors"] == {}


class TestUsers:
    @pytest.mark.parametrize("jira_flavor", ["server"])
    async def test_server_style_search(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/rest/api/2/user/search", params={"username": ".", "maxResults": 1})
        assert len(r.json()) == 1
        r = await client.get("/rest/api/2/user/search", params={"username": "doe"})
        assert [u["displayName"] for u in r.json()] == ["John Doe"]

    async def test_cloud_style_search_paged(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/rest/api/2/users/search", params={"startAt": 1, "maxResults": 5})
        assert [u["displayName"] for u in r.json()] == ["John Doe"]
        (user,) = r.json()
        assert user["accountId"]
        assert not {"name", "key", "emailAddress"} & set(user)

    @pytest.mark.parametrize(
        "path",
        [
            "/rest/api/2/user?username=jdoe",
            "/rest/api/2/user?key=jdoe",
            "/rest/api/2/user/search?username=doe",
        ],
    )
    async def test_cloud_knows_users_by_account_id_only(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        assert (await client.get(path)).status_code == 400

    async def test_cloud_shows_the_callers_own_email(self, client: httpx.AsyncClient) -> None:
        me = (await client.get("/rest/api/2/myself")).json()
        assert me["emailAddress"] == "integration@example.com"

    @pytest.mark.parametrize("jira_flavor", ["server"])
    async def test_server_has_no_cloud_user_search(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/rest/api/2/users/search")).status_code == 404
        jdoe = (await client.get("/rest/api/2/user", params={"username": "jdoe"})).json()
        assert (jdoe["name"], jdoe["emailAddress"]) == ("jdoe", "jdoe@example.com")


class TestPermissions:
    async def test_cloud_requires_the_permissions_asked_for(
        self, client: httpx.AsyncClient
    ) -> None:
        assert (await client.get("/rest/api/2/mypermissions")).status_code == 400
        r = await client.get("/rest/api/2/mypermissions", params={"permissions": "LINK_ISSUES"})
        assert r.json()["permissions"]["LINK_ISSUES"]["havePermission"] is True

    @pytest.mark.parametrize("jira_flavor", ["server"])
    async def test_server_answers_every_permission_when_none_is_named(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.get("/rest/api/2/mypermissions")
        assert "LINK_ISSUES" in r.json()["permissions"]


class TestSearchJql:
    """Cloud's token-paged `/search/jql` (the successor of the retired `/search`)."""

    @pytest.fixture
    def sim(self, jira_sim: JiraSimulator) -> JiraSimulator:
        for n in range(5):
            jira_sim.create_issue("DEMO", f"issue {n}", issue_type="Task")
        return jira_sim

    async def test_pages_by_token_without_total(self, client: httpx.AsyncClient) -> None:
        keys: list[str] = []
        body: dict[str, Any] = {"jql": "project = DEMO ORDER BY key", "maxResults": 2}
        pages = 0
        while True:
            r = await client.post("/rest/api/2/search/jql", json=body | {"fields": ["summary"]})
            assert r.status_code == 200, r.text
            page = r.json()
            assert "total" not in page
            keys += [i["key"] for i in page["issues"]]
            assert all("summary" in i["fields"] for i in page["issues"])
            pages += 1
            if page["isLast"]:
                assert "nextPageToken" not in page
                break
            body["nextPageToken"] = page["nextPageToken"]
        assert pages == 3
        assert keys == [f"DEMO-{n}" for n in range(1, 6)]

    async def test_only_ids_unless_fields_are_asked_for(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/rest/api/2/search/jql", params={"jql": "key = DEMO-1"})
        (issue,) = r.json()["issues"]
        assert issue["id"]
        assert not issue.get("fields")

    async def test_bad_token_is_400(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/rest/api/2/search/jql", json={"jql": "", "nextPageToken": "zz?"})
        assert r.status_code == 400

    @pytest.mark.parametrize("jira_flavor", ["server"])
    async def test_server_flavor_has_no_such_endpoint(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/rest/api/2/search/jql", json={"jql": ""})
        assert r.status_code == 404
