"""`search_jql` (Cloud's token-paged search, falling back to the old `/search`) and the cached
`myself`."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from app.jira.client import JiraClient
from app.jira.errors import JiraValidationError
from tests.jira.conftest import MakeClient


def issue(n: int) -> dict[str, object]:
    return {"id": str(10000 + n), "key": f"ABC-{n}", "fields": {"summary": f"s{n}"}}


class TestSearchJql:
    async def test_follows_page_tokens(self, client: JiraClient, router: respx.MockRouter) -> None:
        route = router.post("/rest/api/2/search/jql").mock(
            side_effect=[
                httpx.Response(200, json={"issues": [issue(1), issue(2)], "nextPageToken": "t2"}),
                httpx.Response(200, json={"issues": [issue(3)], "isLast": True}),
            ]
        )
        found = [i.key async for i in client.search_jql_all("project = ABC", fields=["summary"])]
        assert found == ["ABC-1", "ABC-2", "ABC-3"]
        first, second = (json.loads(call.request.content) for call in route.calls)
        assert first == {"jql": "project = ABC", "maxResults": 100, "fields": ["summary"]}
        assert second["nextPageToken"] == "t2"

    async def test_falls_back_to_the_old_search_on_404_and_remembers(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        new = router.post("/rest/api/2/search/jql").respond(404, json={"errorMessages": ["no"]})
        old = router.post("/rest/api/2/search").mock(
            side_effect=[
                httpx.Response(200, json={"issues": [issue(1), issue(2)], "total": 3}),
                httpx.Response(200, json={"issues": [issue(3)], "total": 3}),
            ]
        )
        found = [i.key async for i in client.search_jql_all("x", page_size=2)]
        assert found == ["ABC-1", "ABC-2", "ABC-3"]
        assert new.call_count == 1
        starts = [json.loads(call.request.content)["startAt"] for call in old.calls]
        assert starts == [0, 2]

    async def test_falls_back_on_410_gone(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        router.post("/rest/api/2/search/jql").respond(410)
        router.post("/rest/api/2/search").respond(200, json={"issues": [issue(1)], "total": 1})
        page = await client.search_jql("x")
        assert [i.key for i in page.issues] == ["ABC-1"]
        assert page.is_last
        assert page.next_page_token is None

    async def test_the_old_search_is_retried_despite_post(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        router.post("/rest/api/2/search/jql").respond(404)
        old = router.post("/rest/api/2/search").mock(
            side_effect=[httpx.Response(500), httpx.Response(200, json={"issues": [], "total": 0})]
        )
        assert (await client.search_jql("x")).issues == []
        assert old.call_count == 2

    async def test_a_remembered_old_search_that_is_gone_asks_the_new_one_again(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        """A Server migrated to Cloud under the same address: `/search` now answers 410."""
        new = router.post("/rest/api/2/search/jql").mock(
            side_effect=[
                httpx.Response(404),
                httpx.Response(200, json={"issues": [issue(2)], "isLast": True}),
                httpx.Response(200, json={"issues": [], "isLast": True}),
            ]
        )
        old = router.post("/rest/api/2/search").mock(
            side_effect=[
                httpx.Response(200, json={"issues": [issue(1)], "total": 1}),
                httpx.Response(410, json={"errorMessages": ["The API has been removed."]}),
            ]
        )
        assert [i.key for i in (await client.search_jql("x")).issues] == ["ABC-1"]
        assert [i.key for i in (await client.search_jql("x")).issues] == ["ABC-2"]
        assert [i.key for i in (await client.search_jql("x")).issues] == []  # new, remembered
        assert (new.call_count, old.call_count) == (3, 2)

    async def test_a_remembered_new_search_that_is_gone_falls_back_again(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        new = router.post("/rest/api/2/search/jql").mock(
            side_effect=[
                httpx.Response(200, json={"issues": [issue(1)], "isLast": True}),
                httpx.Response(404),
            ]
        )
        router.post("/rest/api/2/search").respond(200, json={"issues": [issue(2)], "total": 1})
        assert [i.key for i in (await client.search_jql("x")).issues] == ["ABC-1"]
        assert [i.key for i in (await client.search_jql("x")).issues] == ["ABC-2"]
        assert new.call_count == 2

    async def test_a_bad_query_is_not_a_fallback(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        router.post("/rest/api/2/search/jql").respond(400, json={"errorMessages": ["bad jql"]})
        old = router.post("/rest/api/2/search")
        with pytest.raises(JiraValidationError, match="bad jql"):
            await client.search_jql("((")
        assert old.call_count == 0


class TestMyselfCached:
    async def test_asks_once_per_client(
        self, make_client: MakeClient, router: respx.MockRouter
    ) -> None:
        route = router.get("/rest/api/2/myself").respond(json={"accountId": "abc", "name": "me"})
        client = make_client()
        assert (await client.myself_cached()).account_id == "abc"
        assert (await client.myself_cached()).account_id == "abc"
        assert route.call_count == 1
