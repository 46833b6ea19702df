"""Jira REST v2 client: every call the service makes to a Jira instance, with typed answers."""

from __future__ import annotations

import asyncio
import random as random_module
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from app.jira import createmeta
from app.jira.auth import AuthMethod
from app.jira.errors import JiraNotFound, JiraValidationError, unexpected_body
from app.jira.http import (
    Clock,
    JiraHttp,
    PauseListener,
    Sleep,
    make_auth,
    parse,
    parse_as,
    response_json,
)
from app.jira.metrics import JiraMetrics
from app.jira.pacing import IssueWritePacer, Random, RetryPolicy
from app.jira.schemas import (
    Comment,
    CommentPage,
    CreatedIssue,
    CreateMetaField,
    EntityProperty,
    Issue,
    JiraField,
    JiraUser,
    JqlPage,
    SearchPage,
)
from app.jira.webhook_admin import WebhookAdmin

API = "/rest/api/2"

_users = TypeAdapter(list[JiraUser])
_fields = TypeAdapter(list[JiraField])


def _path(*parts: str | int) -> str:
    return API + "".join("/" + quote(str(part), safe="") for part in parts)


NEW_SEARCH, OLD_SEARCH = _path("search", "jql"), _path("search")
SEARCHES = (NEW_SEARCH, OLD_SEARCH)
CLOUD_USERS, SERVER_USERS = _path("users", "search"), _path("user", "search")
# What an endpoint a Jira does not (or no longer) have answers.
ENDPOINT_GONE = (404, 410)


class JiraClient:
    """Every call the service makes to one Jira instance.

    GET/PUT/DELETE are retried on connection errors, timeouts and 5xx; POSTs that create things
    are not (`JiraAmbiguousResult`) unless the request never left. 429s are retried for any
    method, honouring Retry-After; a quota 429 pauses every call (`on_pause` is told). Writes to
    one issue are paced by a per-issue token bucket.
    """

    def __init__(
        self,
        *,
        base_url: str,
        user_name: str,
        secret: str,
        auth_method: AuthMethod | str = AuthMethod.BASIC,
        timeout: float = 20.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_retry_after: float = 60.0,
        write_burst: int = 10,
        write_rate: float = 5.0,
        max_connections: int = 10,
        allow_private: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        random: Random = random_module.random,
        clock: Clock = time.monotonic,
        metrics: JiraMetrics | None = None,
        on_pause: PauseListener | None = None,
    ) -> None:
        self._users_path: str | None = None
        self._search_path: str | None = None
        self._myself: JiraUser | None = None
        self._http = JiraHttp(
            base_url=base_url.rstrip("/"),
            auth=make_auth(auth_method, user_name, secret),
            timeout=timeout,
            policy=RetryPolicy(
                max_retries=max_retries,
                backoff_base=backoff_base,
                backoff_cap=backoff_cap,
                max_retry_after=max_retry_after,
            ),
            pacer=IssueWritePacer(burst=write_burst, rate=write_rate),
            max_connections=max_connections,
            allow_private=allow_private,
            transport=transport,
            sleep=sleep,
            random=random,
            clock=clock,
            metrics=metrics,
            on_pause=on_pause,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def policy(self) -> RetryPolicy:
        return self._http.policy

    @property
    def webhooks(self) -> WebhookAdmin:
        """Jira's webhook REST API (administrators only)."""
        return WebhookAdmin(self._http)

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- instance ------------------------------------------------------------------------------

    async def myself(self) -> JiraUser:
        return parse(JiraUser, await self._http.request("GET", _path("myself")))

    async def myself_cached(self) -> JiraUser:
        """The service's own Jira user, asked once per client (a new client comes with new
        credentials, so the cache never outlives them)."""
        if self._myself is None:
            self._myself = await self.myself()
        return self._myself

    async def my_permissions(self, keys: Iterable[str]) -> dict[str, bool]:
        """Whether the service's user holds each permission."""
        params = {"permissions": ",".join(keys)}
        data = response_json(await self._http.request("GET", _path("mypermissions"), params=params))
        permissions = data.get("permissions", {}) if isinstance(data, dict) else {}
        return {key: bool(value.get("havePermission")) for key, value in permissions.items()}

    async def fields(self) -> list[JiraField]:
        return parse_as(_fields, await self._http.request("GET", _path("field")))

    async def create_meta(self, project_key: str, issue_type_name: str) -> list[CreateMetaField]:
        """Fields for creating `issue_type_name` in a project, from whichever createmeta exists."""
        types_path = _path("issue", "createmeta", project_key, "issuetypes")
        try:
            issue_types = await self._paged_values(types_path, createmeta.ISSUE_TYPE_KEYS)
        except JiraNotFound:
            params = createmeta.legacy_params(project_key, issue_type_name)
            response = await self._http.request("GET", _path("issue", "createmeta"), params=params)
            return createmeta.legacy_fields(response_json(response), project_key, issue_type_name)
        type_id = createmeta.issue_type_id(issue_types, project_key, issue_type_name)
        fields_path = _path("issue", "createmeta", project_key, "issuetypes", type_id)
        return createmeta.paged_fields(await self._paged_values(fields_path, createmeta.FIELD_KEYS))

    async def _paged_values(self, path: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
        """All items of a startAt/maxResults paged list, whichever key the server puts them in."""
        items: list[dict[str, Any]] = []
        while True:
            params = {"startAt": len(items), "maxResults": 100}
            data = response_json(await self._http.request("GET", path, params=params))
            if not isinstance(data, dict):
                return items
            page: list[dict[str, Any]] = next(
                (data[key] for key in keys if isinstance(data.get(key), list)), []
            )
            items.extend(page)
            total = data.get("total")
            if not page or data.get("isLast") is True:
                return items
            if data.get("isLast") is None and (total is None or len(items) >= total):
                return items

    # -- issues ----------------------------------------------------------------------------

    async def create_issue(
        self, fields: Mapping[str, Any], properties: Mapping[str, Any] | None = None
    ) -> CreatedIssue:
        """Create an issue; never repeated by the client once the request may have been sent."""
        body: dict[str, Any] = {"fields": dict(fields)}
        if properties:
            body["properties"] = _property_list(properties)
        return parse(CreatedIssue, await self._http.request("POST", _path("issue"), json=body))

    async def get_issue(self, id_or_key: str, fields: Iterable[str] | None = None) -> Issue:
        params = _list_params(fields=fields)
        return parse(
            Issue, await self._http.request("GET", _path("issue", id_or_key), params=params)
        )

    async def edit_issue(self, id_or_key: str, fields: Mapping[str, Any]) -> None:
        body = {"fields": dict(fields)}
        await self._http.request("PUT", _path("issue", id_or_key), json=body, write_to=id_or_key)

    async def get_issue_property(self, id_or_key: str, key: str) -> EntityProperty | None:
        """The entity property, or None when it (or the issue) does not exist."""
        try:
            response = await self._http.request("GET", _path("issue", id_or_key, "properties", key))
        except JiraNotFound:
            return None
        return parse(EntityProperty, response)

    # -- comments ----------------------------------------------------------------------------

    async def add_comment(
        self, id_or_key: str, body: str, properties: Mapping[str, Any] | None = None
    ) -> Comment:
        """Add a comment; never repeated by the client once the request may have been sent."""
        payload: dict[str, Any] = {"body": body}
        if properties:
            payload["properties"] = _property_list(properties)
        path = _path("issue", id_or_key, "comment")
        return parse(
            Comment, await self._http.request("POST", path, json=payload, write_to=id_or_key)
        )

    async def get_comment(
        self, issue: str, comment_id: str, expand: Iterable[str] | None = None
    ) -> Comment:
        path = _path("issue", issue, "comment", comment_id)
        params = _list_params(expand=expand)
        return parse(Comment, await self._http.request("GET", path, params=params))

    async def delete_comment(self, issue: str, comment_id: str) -> None:
        """Delete a comment; one already gone counts as deleted."""
        path = _path("issue", issue, "comment", comment_id)
        try:
            await self._http.request("DELETE", path, write_to=issue)
        except JiraNotFound:
            return

    async def list_comments(
        self,
        issue: str,
        start_at: int = 0,
        max_results: int = 50,
        expand: Iterable[str] | None = None,
    ) -> CommentPage:
        params: dict[str, Any] = {"startAt": start_at, "maxResults": max_results}
        params |= _list_params(expand=expand)
        path = _path("issue", issue, "comment")
        return parse(CommentPage, await self._http.request("GET", path, params=params))

    # -- remote links --------------------------------------------------------------------------

    async def upsert_remote_link(
        self, issue: str, global_id: str | None, url: str, title: str
    ) -> int:
        """Create or (with a `global_id`) update a remote link; returns its id."""
        body: dict[str, Any] = {"object": {"url": url, "title": title}}
        if global_id:
            body["globalId"] = global_id
        path = _path("issue", issue, "remotelink")
        response = await self._http.request(
            "POST", path, json=body, write_to=issue, retry_safe=bool(global_id)
        )
        data = response_json(response)
        try:
            return int(data["id"])
        except (KeyError, TypeError, ValueError):
            raise unexpected_body(response, "Remote link answer without an id") from None

    # -- search ------------------------------------------------------------------------------

    async def search_jql(
        self,
        jql: str,
        *,
        next_page_token: str | None = None,
        max_results: int = 100,
        fields: Iterable[str] | None = None,
    ) -> JqlPage:
        """One page of the issues matching `jql`: every search of the service comes here.

        Cloud's token-paged `POST /search/jql` (no total) first; on a Jira without it (404/410:
        Server, Data Center) the startAt-paged `POST /search`, the next startAt as the page
        token. The variant that answered is asked first next time, and asked again only when it
        answers 404/410 (a Jira upgraded or migrated under the same address)."""
        body: dict[str, Any] = {"jql": jql, "maxResults": max_results}
        if fields is not None:
            body["fields"] = list(fields)
        order = (OLD_SEARCH, NEW_SEARCH) if self._search_path == OLD_SEARCH else SEARCHES
        for path in order:
            try:
                page = await self._search_at(path, body, next_page_token)
            except (JiraNotFound, JiraValidationError) as exc:
                if exc.status not in ENDPOINT_GONE or path == order[-1]:
                    raise
                continue
            self._search_path = path
            return page
        raise AssertionError("unreachable: the last search variant raises or answers")

    async def _search_at(
        self, path: str, body: dict[str, Any], next_page_token: str | None
    ) -> JqlPage:
        if path == NEW_SEARCH:
            paging = {"nextPageToken": next_page_token} if next_page_token else {}
            response = await self._http.request("POST", path, json=body | paging, retry_safe=True)
            return parse(JqlPage, response)
        # A token of the other variant (the Jira changed between two pages) restarts the search.
        token = next_page_token or ""
        start_at = int(token) if token.isdigit() else 0
        response = await self._http.request(
            "POST", path, json=body | {"startAt": start_at}, retry_safe=True
        )
        page = parse(SearchPage, response)
        following = start_at + len(page.issues)
        last = not page.issues or following >= page.total
        return JqlPage(
            issues=page.issues,
            next_page_token=None if last else str(following),
            is_last=last,
        )

    async def search_jql_all(
        self, jql: str, fields: Iterable[str] | None = None, page_size: int = 100
    ) -> AsyncIterator[Issue]:
        """Every issue matching `jql`, following the page tokens."""
        wanted = list(fields) if fields is not None else None
        token: str | None = None
        while True:
            page = await self.search_jql(
                jql, next_page_token=token, max_results=page_size, fields=wanted
            )
            for issue in page.issues:
                yield issue
            token = page.next_page_token
            if page.is_last or not token or not page.issues:
                return

    async def search_users(self, start_at: int = 0, max_results: int = 50) -> list[JiraUser]:
        """All users: Cloud `users/search`, or Server/Data Center `user/search?username=.`; the
        one that answered is asked first next time, the other again when it answers 404/410."""
        page: dict[str, Any] = {"startAt": start_at, "maxResults": max_results}
        cloud = (CLOUD_USERS, page)
        server = (SERVER_USERS, page | {"username": "."})
        order = (server, cloud) if self._users_path == SERVER_USERS else (cloud, server)
        for path, params in order:
            try:
                response = await self._http.request("GET", path, params=params)
            except (JiraNotFound, JiraValidationError) as exc:
                if exc.status not in ENDPOINT_GONE or path == order[-1][0]:
                    raise
                continue
            self._users_path = path
            return parse_as(_users, response)
        raise AssertionError("unreachable: the last user search variant raises or answers")


def _property_list(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in properties.items()]


def _list_params(**lists: Iterable[str] | None) -> dict[str, str]:
    return {name: ",".join(values) for name, values in lists.items() if values is not None}
