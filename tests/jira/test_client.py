from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import respx
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from app.jira.auth import AuthMethod
from app.jira.client import JiraClient
from app.jira.errors import (
    JiraAmbiguousResult,
    JiraAuthError,
    JiraError,
    JiraNotFound,
    JiraRateLimited,
    JiraUnavailable,
    JiraUnexpectedResponse,
    JiraValidationError,
)
from tests.jira.conftest import SECRET, USER, MakeClient, RecordingSleep

ISSUE = {"id": "10001", "key": "ABC-1", "fields": {"summary": "Printer on fire"}}
CREATED = {"id": "10001", "key": "ABC-1", "self": "https://jira.example.com/rest/api/2/issue/10001"}


def body_of(call: Any) -> Any:
    return json.loads(call.request.content)


class TestAuth:
    async def test_basic(self, make_client: MakeClient, router: respx.MockRouter) -> None:
        route = router.get("/rest/api/2/myself").respond(json={"name": "sync"})
        await make_client(auth_method=AuthMethod.BASIC).myself()
        expected = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
        headers = route.calls.last.request.headers
        assert headers["Authorization"] == f"Basic {expected}"
        assert headers["User-Agent"].startswith("helpdesk-jira-sync/")

    async def test_bearer(self, make_client: MakeClient, router: respx.MockRouter) -> None:
        route = router.get("/rest/api/2/myself").respond(json={"name": "sync"})
        user = await make_client(auth_method="Bearer").myself()
        assert route.calls.last.request.headers["Authorization"] == f"Bearer {SECRET}"
        assert user.name == "sync"


class TestRetries:
    async def test_get_retried_through_5xx_with_growing_delays(
        self,
        client: JiraClient,
        router: respx.MockRouter,
        sleeps: RecordingSleep,
        registry: CollectorRegistry,
    ) -> None:
        route = router.get("/rest/api/2/issue/ABC-1").mock(
            side_effect=[httpx.Response(500)] * 3 + [httpx.Response(200, json=ISSUE)]
        )
        issue = await client.get_issue("ABC-1")
        assert issue.key == "ABC-1"
        assert route.call_count == 4
        assert sleeps.calls == [0.5, 1.0, 2.0]
        sample = registry.get_sample_value
        assert sample("jira_requests_total", {"method": "GET", "status": "500"}) == 3
        assert sample("jira_requests_total", {"method": "GET", "status": "200"}) == 1
        assert sample("jira_request_seconds_count", {"method": "GET"}) == 4

    async def test_get_gives_up_after_max_retries(
        self, make_client: MakeClient, router: respx.MockRouter, sleeps: RecordingSleep
    ) -> None:
        route = router.get("/rest/api/2/issue/ABC-1").respond(503, json={"errorMessages": ["x"]})
        with pytest.raises(JiraUnavailable) as caught:
            await make_client(max_retries=2).get_issue("ABC-1")
        assert caught.value.transient
        assert route.call_count == 3
        assert len(sleeps.calls) == 2

    async def test_get_retried_after_read_timeout(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        route = router.get("/rest/api/2/issue/ABC-1").mock(
            side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=ISSUE)]
        )
        await client.get_issue("ABC-1")
        assert route.call_count == 2

    @pytest.mark.parametrize(
        "failure",
        [
            httpx.Response(500, json={"errorMessages": ["Internal error"]}),
            httpx.Response(503),
            httpx.ReadTimeout("read timed out"),
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
        ],
    )
    async def test_create_issue_is_never_repeated_once_sent(
        self,
        client: JiraClient,
        router: respx.MockRouter,
        sleeps: RecordingSleep,
        failure: httpx.Response | Exception,
    ) -> None:
        route = router.post("/rest/api/2/issue").mock(side_effect=[failure])
        with pytest.raises(JiraAmbiguousResult) as caught:
            await client.create_issue({"summary": "x"})
        assert caught.value.transient
        assert route.call_count == 1
        assert sleeps.calls == []

    async def test_add_comment_is_never_repeated_once_sent(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        route = router.post("/rest/api/2/issue/ABC-1/comment").respond(502)
        with pytest.raises(JiraAmbiguousResult):
            await client.add_comment("ABC-1", "hello")
        assert route.call_count == 1

    async def test_connect_error_on_post_is_retried(
        self, client: JiraClient, router: respx.MockRouter, sleeps: RecordingSleep
    ) -> None:
        route = router.post("/rest/api/2/issue").mock(
            side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json=CREATED)]
        )
        created = await client.create_issue({"summary": "x"}, properties={"ticket": {"id": 7}})
        assert (created.id, created.key) == ("10001", "ABC-1")
        assert route.call_count == 2
        assert sleeps.calls == [0.5]
        assert body_of(route.calls.last)["properties"] == [{"key": "ticket", "value": {"id": 7}}]

    async def test_connect_error_exhausted(
        self, make_client: MakeClient, router: respx.MockRouter
    ) -> None:
        router.post("/rest/api/2/issue").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(JiraUnavailable, match="ConnectError"):
            await make_client(max_retries=1).create_issue({"summary": "x"})

    @pytest.mark.parametrize(
        ("global_id", "calls", "error"), [("ts:1", 2, None), (None, 1, JiraAmbiguousResult)]
    )
    async def test_remote_link_retried_only_with_global_id(
        self,
        client: JiraClient,
        router: respx.MockRouter,
        global_id: str | None,
        calls: int,
        error: type[JiraError] | None,
    ) -> None:
        route = router.post("/rest/api/2/issue/ABC-1/remotelink").mock(
            side_effect=[httpx.Response(500), httpx.Response(200, json={"id": 5})]
        )
        if error is None:
            assert await client.upsert_remote_link("ABC-1", global_id, "https://t/1", "T1") == 5
            assert body_of(route.calls.last)["globalId"] == global_id
        else:
            with pytest.raises(error):
                await client.upsert_remote_link("ABC-1", global_id, "https://t/1", "T1")
        assert route.call_count == calls

    @pytest.mark.parametrize(
        ("status", "error"),
        [
            (400, JiraValidationError),
            (401, JiraAuthError),
            (403, JiraAuthError),
            (404, JiraNotFound),
            (409, JiraValidationError),
        ],
    )
    async def test_4xx_is_never_retried(
        self,
        client: JiraClient,
        router: respx.MockRouter,
        sleeps: RecordingSleep,
        status: int,
        error: type[JiraError],
    ) -> None:
        route = router.put("/rest/api/2/issue/ABC-1").respond(
            status, json={"errorMessages": ["no"]}
        )
        with pytest.raises(error) as caught:
            await client.edit_issue("ABC-1", {"summary": "x"})
        assert not caught.value.transient
        assert route.call_count == 1
        assert sleeps.calls == []

    async def test_validation_error_keeps_jiras_message(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        router.post("/rest/api/2/issue").respond(
            400,
            json={"errorMessages": [], "errors": {"customfield_10010": "Severity is required."}},
        )
        with pytest.raises(JiraValidationError) as caught:
            await client.create_issue({"summary": "x"})
        assert caught.value.message == "customfield_10010: Severity is required."
        assert caught.value.errors == {"customfield_10010": "Severity is required."}

    async def test_html_error_body(self, make_client: MakeClient, router: respx.MockRouter) -> None:
        router.get("/rest/api/2/myself").respond(
            502, html="<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
        )
        with pytest.raises(JiraUnavailable) as caught:
            await make_client(max_retries=0).myself()
        assert caught.value.message == "HTTP 502 Bad Gateway: 502 Bad Gateway nginx"

    async def test_html_success_body(self, client: JiraClient, router: respx.MockRouter) -> None:
        router.get("/rest/api/2/myself").respond(200, html="<html>Log in to continue</html>")
        with pytest.raises(JiraUnexpectedResponse, match="Log in to continue"):
            await client.myself()

    async def test_logs_never_carry_the_secret(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        router.get("/rest/api/2/myself").mock(
            side_effect=[httpx.Response(500), httpx.Response(200, json={"name": "sync"})]
        )
        with capture_logs() as logs:
            await client.myself()
        assert [entry["event"] for entry in logs] == ["jira.request", "jira.retry", "jira.request"]
        assert SECRET not in repr(logs)
        assert "Basic" not in repr(logs)


class TestRateLimits:
    async def test_retry_after_is_honoured(
        self, client: JiraClient, router: respx.MockRouter, sleeps: RecordingSleep
    ) -> None:
        router.post("/rest/api/2/issue").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "7"}),
                httpx.Response(201, json=CREATED),
            ]
        )
        assert (await client.create_issue({"summary": "x"})).key == "ABC-1"
        assert sleeps.calls == [7.0]

    async def test_without_retry_after_backs_off_on_its_own(
        self, client: JiraClient, router: respx.MockRouter, sleeps: RecordingSleep
    ) -> None:
        router.get("/rest/api/2/myself").mock(
            side_effect=[httpx.Response(429), httpx.Response(429), httpx.Response(200, json={})]
        )
        await client.myself()
        assert sleeps.calls == [2.0, 4.0]

    async def test_exhausted_raises_rate_limited(
        self, make_client: MakeClient, router: respx.MockRouter, registry: CollectorRegistry
    ) -> None:
        route = router.get("/rest/api/2/myself").respond(
            429, headers={"Retry-After": "5", "RateLimit-Reason": "jira-burst-based"}
        )
        with pytest.raises(JiraRateLimited) as caught:
            await make_client(max_retries=2).myself()
        assert (caught.value.retry_after, caught.value.reason) == (5.0, "jira-burst-based")
        assert caught.value.transient
        assert route.call_count == 3
        assert (
            registry.get_sample_value("jira_rate_limited_total", {"reason": "jira-burst-based"})
            == 3
        )

    async def test_long_retry_after_is_left_to_the_caller(
        self, client: JiraClient, router: respx.MockRouter, sleeps: RecordingSleep
    ) -> None:
        route = router.get("/rest/api/2/myself").respond(429, headers={"Retry-After": "3600"})
        with pytest.raises(JiraRateLimited) as caught:
            await client.myself()
        assert caught.value.retry_after == 3600.0
        assert route.call_count == 1
        assert sleeps.calls == []

    async def test_per_issue_limit_slows_that_issue_only(
        self, client: JiraClient, router: respx.MockRouter, sleeps: RecordingSleep
    ) -> None:
        limited = httpx.Response(
            429, headers={"Retry-After": "3", "RateLimit-Reason": "jira-per-issue-on-write"}
        )
        router.put("/rest/api/2/issue/ABC-1").mock(side_effect=[limited, httpx.Response(204)])
        router.put("/rest/api/2/issue/ABC-2").respond(204)
        await client.edit_issue("ABC-1", {"summary": "x"})
        assert sleeps.calls == [3.0]
        await client.edit_issue("ABC-2", {"summary": "y"})
        assert sleeps.calls == [3.0]


class TestWritePacing:
    async def test_writes_to_one_issue_wait_others_do_not(
        self, make_client: MakeClient, router: respx.MockRouter, sleeps: RecordingSleep
    ) -> None:
        client = make_client(write_burst=2, write_rate=1.0)
        router.put(url__regex=r"/rest/api/2/issue/ABC-\d+$").respond(204)
        router.post("/rest/api/2/issue/ABC-1/comment").respond(201, json={"id": "9"})
        await client.edit_issue("ABC-1", {"summary": "1"})
        await client.edit_issue("ABC-1", {"summary": "2"})
        assert sleeps.calls == []
        await client.add_comment("ABC-1", "3")
        assert sleeps.calls == [1.0]
        await client.edit_issue("ABC-2", {"summary": "other"})
        await client.edit_issue("ABC-3", {"summary": "other"})
        assert sleeps.calls == [1.0]

    async def test_reads_are_not_paced(
        self, make_client: MakeClient, router: respx.MockRouter, sleeps: RecordingSleep
    ) -> None:
        client = make_client(write_burst=1, write_rate=1.0)
        router.get("/rest/api/2/issue/ABC-1").respond(json=ISSUE)
        for _ in range(5):
            await client.get_issue("ABC-1")
        assert sleeps.calls == []


class TestCreateMeta:
    async def test_new_endpoints(self, client: JiraClient, router: respx.MockRouter) -> None:
        types = router.get("/rest/api/2/issue/createmeta/ABC/issuetypes").mock(
            side_effect=[
                httpx.Response(
                    200, json={"values": [{"id": "1", "name": "Task"}], "total": 2, "isLast": False}
                ),
                httpx.Response(
                    200, json={"values": [{"id": "2", "name": "Bug"}], "total": 2, "isLast": True}
                ),
            ]
        )
        router.get("/rest/api/2/issue/createmeta/ABC/issuetypes/2").respond(
            json={
                "startAt": 0,
                "maxResults": 50,
                "total": 2,
                "values": [
                    {
                        "fieldId": "summary",
                        "name": "Summary",
                        "required": True,
                        "schema": {"type": "string", "system": "summary"},
                    },
                    {
                        "fieldId": "customfield_10010",
                        "name": "Severity",
                        "required": True,
                        "schema": {
                            "type": "option",
                            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
                            "customId": 10010,
                        },
                        "allowedValues": [{"id": "100", "value": "High"}],
                    },
                ],
            }
        )
        fields = await client.create_meta("ABC", "bug")
        assert types.calls[1].request.url.params["startAt"] == "1"
        assert [(f.id, f.name, f.required) for f in fields] == [
            ("summary", "Summary", True),
            ("customfield_10010", "Severity", True),
        ]
        assert fields[1].schema_.type == "option"
        assert fields[1].schema_.custom_id == 10010
        assert fields[1].allowed_values == [{"id": "100", "value": "High"}]

    async def test_cloud_page_keys(self, client: JiraClient, router: respx.MockRouter) -> None:
        router.get("/rest/api/2/issue/createmeta/ABC/issuetypes").respond(
            json={"issueTypes": [{"id": "1", "name": "Task"}], "total": 1}
        )
        router.get("/rest/api/2/issue/createmeta/ABC/issuetypes/1").respond(
            json={
                "fields": [{"fieldId": "summary", "name": "Summary", "required": True}],
                "total": 1,
            }
        )
        assert [f.id for f in await client.create_meta("ABC", "Task")] == ["summary"]

    async def test_falls_back_to_old_createmeta(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        router.get("/rest/api/2/issue/createmeta/ABC/issuetypes").respond(404)
        old = router.get("/rest/api/2/issue/createmeta").respond(
            json={
                "projects": [
                    {
                        "key": "ABC",
                        "issuetypes": [
                            {
                                "id": "2",
                                "name": "Bug",
                                "fields": {
                                    "summary": {
                                        "name": "Summary",
                                        "required": True,
                                        "schema": {"type": "string", "system": "summary"},
                                    },
                                    "labels": {
                                        "name": "Labels",
                                        "required": False,
                                        "schema": {"type": "array", "items": "string"},
                                    },
                                },
                            }
                        ],
                    }
                ]
            }
        )
        fields = await client.create_meta("ABC", "Bug")
        assert old.calls.last.request.url.params == httpx.QueryParams(
            projectKeys="ABC", issuetypeNames="Bug", expand="projects.issuetypes.fields"
        )
        assert [(f.id, f.required, f.schema_.items) for f in fields] == [
            ("summary", True, None),
            ("labels", False, "string"),
        ]

    async def test_unknown_issue_type(self, client: JiraClient, router: respx.MockRouter) -> None:
        router.get("/rest/api/2/issue/createmeta/ABC/issuetypes").respond(
            json={"values": [{"id": "1", "name": "Task"}], "isLast": True}
        )
        with pytest.raises(JiraNotFound, match="Epic"):
            await client.create_meta("ABC", "Epic")


class TestSearchUsers:
    async def test_cloud(self, client: JiraClient, router: respx.MockRouter) -> None:
        route = router.get("/rest/api/2/users/search").respond(
            json=[{"accountId": "5b10", "displayName": "Ann", "accountType": "atlassian"}]
        )
        users = await client.search_users(0, 100)
        assert users[0].account_id == "5b10"
        assert route.calls.last.request.url.params == httpx.QueryParams(startAt=0, maxResults=100)

    async def test_server_fallback_is_remembered(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        cloud = router.get("/rest/api/2/users/search").respond(404)
        server = router.get("/rest/api/2/user/search").respond(
            json=[{"name": "ann", "key": "JIRAUSER1", "displayName": "Ann"}]
        )
        assert [u.name for u in await client.search_users()] == ["ann"]
        assert [u.name for u in await client.search_users(50)] == ["ann"]
        assert cloud.call_count == 1
        assert server.calls.last.request.url.params["username"] == "."
        assert server.calls.last.request.url.params["startAt"] == "50"

    async def test_a_remembered_variant_that_is_gone_is_asked_again(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        cloud = router.get("/rest/api/2/users/search").mock(
            side_effect=[
                httpx.Response(200, json=[{"accountId": "5b10"}]),
                httpx.Response(404),
            ]
        )
        server = router.get("/rest/api/2/user/search").respond(json=[{"name": "ann"}])
        assert [u.account_id for u in await client.search_users()] == ["5b10"]
        assert [u.name for u in await client.search_users()] == ["ann"]
        assert (cloud.call_count, server.call_count) == (2, 1)

    async def test_another_error_is_no_reason_to_switch(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        router.get("/rest/api/2/users/search").respond(403, json={"errorMessages": ["no"]})
        server = router.get("/rest/api/2/user/search")
        with pytest.raises(JiraAuthError):
            await client.search_users()
        assert server.call_count == 0


class TestReads:
    async def test_missing_issue_property_is_none(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        router.get("/rest/api/2/issue/ABC-1/properties/helpdesk").respond(404)
        assert await client.get_issue_property("ABC-1", "helpdesk") is None

    async def test_issue_property(self, client: JiraClient, router: respx.MockRouter) -> None:
        router.get("/rest/api/2/issue/ABC-1/properties/helpdesk").respond(
            json={"key": "helpdesk", "value": {"tickets": [1, 2]}}
        )
        prop = await client.get_issue_property("ABC-1", "helpdesk")
        assert prop is not None
        assert prop.value == {"tickets": [1, 2]}

    async def test_get_issue_params(self, client: JiraClient, router: respx.MockRouter) -> None:
        route = router.get("/rest/api/2/issue/ABC-1").respond(json=ISSUE)
        issue = await client.get_issue("ABC-1", fields=["summary", "status"])
        assert issue.fields["summary"] == "Printer on fire"
        assert route.calls.last.request.url.params == httpx.QueryParams(fields="summary,status")

    async def test_comments(self, client: JiraClient, router: respx.MockRouter) -> None:
        comment = {
            "id": "9",
            "body": "Hi",
            "author": {"accountId": "5b10", "displayName": "Ann"},
            "created": "2026-11-23T19:40:00.000+0000",
            "properties": [{"key": "helpdesk", "value": {"action": 3}}],
        }
        router.get("/rest/api/2/issue/ABC-1/comment").respond(
            json={"comments": [comment], "startAt": 0, "maxResults": 50, "total": 1}
        )
        page = await client.list_comments("ABC-1")
        assert page.total == 1
        assert page.comments[0].author is not None
        assert page.comments[0].author.display_name == "Ann"
        assert page.comments[0].created is not None
        assert page.comments[0].created.utcoffset() is not None
        assert page.comments[0].properties[0].value == {"action": 3}

    async def test_my_permissions(self, client: JiraClient, router: respx.MockRouter) -> None:
        route = router.get("/rest/api/2/mypermissions").respond(
            json={
                "permissions": {
                    "BROWSE_PROJECTS": {"havePermission": True},
                    "CREATE_ISSUES": {"havePermission": False},
                }
            }
        )
        assert await client.my_permissions(["BROWSE_PROJECTS", "CREATE_ISSUES"]) == {
            "BROWSE_PROJECTS": True,
            "CREATE_ISSUES": False,
        }
        assert route.calls.last.request.url.params["permissions"] == "BROWSE_PROJECTS,CREATE_ISSUES"

    async def test_path_parts_are_quoted(
        self, client: JiraClient, router: respx.MockRouter
    ) -> None:
        route = router.get("/rest/api/2/issue/A%2FB/properties/x%20y").respond(404)
        assert await client.get_issue_property("A/B", "x y") is None
        assert route.called


class TestDeleteComment:
    @pytest.mark.parametrize("status", [204, 404])
    async def test_a_comment_deleted_or_already_gone_is_deleted(
        self, client: JiraClient, router: respx.MockRouter, status: int
    ) -> None:
        route = router.delete("/rest/api/2/issue/10040/comment/7").respond(status)
        await client.delete_comment("10040", "7")
        assert route.call_count == 1
