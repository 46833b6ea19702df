"""REST v2: issues, properties, transitions, comments, remote links and search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from jirasim.errors import JiraError, forbidden, not_found_issue
from jirasim.jql import JqlError, search
from jirasim.model import Issue, RemoteLink, User
from jirasim.rest_common import (
    MAX_RESULTS_CAP,
    field_selection,
    paging,
    read_json,
    read_object,
    split_csv,
)

if TYPE_CHECKING:
    from jirasim.simulator import JiraSimulator

NO_CONTENT = 204
# What Jira Cloud answers on the startAt-paged search it removed (CHANGE-2046).
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def refuse_removed_search(sim: JiraSimulator) -> None:
    """Jira Cloud answers `GET/POST /rest/api/{2,3}/search` with 410 Gone."""
    if sim.flavor == "cloud":
        raise JiraError(410, SEARCH_REMOVED)


def build_issue_router(sim: JiraSimulator) -> APIRouter:
    router = APIRouter(prefix="/rest/api/2")

    async def current_user(request: Request) -> User:
        return sim.authenticate(request.headers.get("authorization"))

    def find(id_or_key: str, user: User) -> Issue:
        issue = sim.state.find_issue(id_or_key)
        if issue is None or "BROWSE_PROJECTS" not in user.permissions:
            raise not_found_issue()
        return issue

    def render_issue(
        issue: Issue, fields: list[str], expand: list[str], properties: list[str], default: str
    ) -> dict[str, Any]:
        wanted = field_selection(list(sim.state.fields), fields, default)
        return sim.renderer().issue(issue, fields=wanted, expand=expand, properties=properties)

    # issues

    @router.post("/issue", status_code=201)
    async def create_issue(request: Request, user: User = Depends(current_user)) -> Any:
        body = await read_object(request)
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise JiraError(400, [], {"project": "Specify a valid project ID or key"})
        properties = body.get("properties") or []
        if not isinstance(properties, list) or not all(
            isinstance(p, dict) and "key" in p for p in properties
        ):
            raise JiraError(400, "properties must be a list of {key, value}")
        issue = sim.service.create_issue(
            user, fields, update=body.get("update"), properties=properties
        )
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{sim.base_url}/rest/api/2/issue/{issue.id}",
        }

    @router.get("/issue/{id_or_key}")
    async def get_issue(
        id_or_key: str,
        fields: str | None = None,
        expand: str | None = None,
        properties: str | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        return render_issue(
            find(id_or_key, user),
            split_csv(fields),
            split_csv(expand),
            split_csv(properties),
            "*all",
        )

    @router.put("/issue/{id_or_key}", status_code=NO_CONTENT)
    async def edit_issue(
        id_or_key: str, request: Request, user: User = Depends(current_user)
    ) -> Response:
        body = await read_object(request)
        issue = find(id_or_key, user)
        sim.service.edit_issue(user, issue, body.get("fields"), body.get("update"))
        return Response(status_code=NO_CONTENT)

    @router.delete("/issue/{id_or_key}", status_code=NO_CONTENT)
    async def delete_issue(id_or_key: str, user: User = Depends(current_user)) -> Response:
        sim.service.delete_issue(user, find(id_or_key, user))
        return Response(status_code=NO_CONTENT)

    # entity properties (issues and comments)

    def property_routes(prefix: str, owner: Any) -> None:
        @router.get(prefix + "/properties")
        async def keys(request: Request, user: User = Depends(current_user)) -> Any:
            target = owner(request, user)
            return {
                "keys": [
                    {"self": f"{sim.base_url}{request.url.path}/{k}", "key": k}
                    for k in target.properties
                ]
            }

        @router.get(prefix + "/properties/{key}")
        async def get_property(
            key: str, request: Request, user: User = Depends(current_user)
        ) -> Any:
            target = owner(request, user)
            if key not in target.properties:
                raise JiraError(404, f"The property with key '{key}' does not exist.")
            return {"key": key, "value": target.properties[key]}

        @router.put(prefix + "/properties/{key}")
        async def put_property(
            key: str, request: Request, user: User = Depends(current_user)
        ) -> Any:
            target = owner(request, user)
            value = await read_json(request)
            if "EDIT_ISSUES" not in user.permissions:
                raise forbidden("edit this issue")
            created = key not in target.properties
            target.properties[key] = value
            sim.service.touch(user, find(request.path_params["id_or_key"], user), "property")
            return Response(status_code=201 if created else 200)

        @router.delete(prefix + "/properties/{key}", status_code=NO_CONTENT)
        async def delete_property(
            key: str, request: Request, user: User = Depends(current_user)
        ) -> Response:
            target = owner(request, user)
            if target.properties.pop(key, None) is None:
                raise JiraError(404, f"The property with key '{key}' does not exist.")
            return Response(status_code=NO_CONTENT)

    property_routes("/issue/{id_or_key}", lambda r, u: find(r.path_params["id_or_key"], u))
    property_routes(
        "/issue/{id_or_key}/comment/{comment_id}",
        lambda r, u: sim.service.comment(
            find(r.path_params["id_or_key"], u), r.path_params["comment_id"]
        ),
    )

    # transitions

    @router.get("/issue/{id_or_key}/transitions")
    async def transitions(id_or_key: str, user: User = Depends(current_user)) -> Any:
        issue = find(id_or_key, user)
        render = sim.renderer()
        return {
            "expand": "transitions",
            "transitions": [
                {
                    "id": tid,
                    "name": status.name,
                    "to": render.status(status),
                    "hasScreen": False,
                    "isGlobal": True,
                    "isInitial": False,
                    "isAvailable": True,
                    "isConditional": False,
                }
                for tid, status in sim.service.transitions(issue)
            ],
        }

    @router.post("/issue/{id_or_key}/transitions", status_code=NO_CONTENT)
    async def do_transition(
        id_or_key: str, request: Request, user: User = Depends(current_user)
    ) -> Response:
        body = await read_object(request)
        issue = find(id_or_key, user)
        ref = body.get("transition")
        if not isinstance(ref, dict) or "id" not in ref:
            raise JiraError(400, "Missing 'transition' identifier")
        sim.service.transition(
            user,
            issue,
            transition_id=str(ref["id"]),
            fields=body.get("fields"),
            update=body.get("update"),
        )
        return Response(status_code=NO_CONTENT)

    # comments

    @router.get("/issue/{id_or_key}/comment")
    async def comments(
        id_or_key: str,
        startAt: int = 0,
        maxResults: int | None = None,
        orderBy: str | None = None,
        expand: str | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        issue = find(id_or_key, user)
        start, size = paging(startAt, maxResults, default=5000)
        ordered = sorted(issue.comments, key=lambda c: int(c.id), reverse=orderBy == "-created")
        with_props = "properties" in split_csv(expand)
        rendered = "renderedBody" in split_csv(expand)
        render = sim.renderer()
        return {
            "startAt": start,
            "maxResults": size,
            "total": len(ordered),
            "comments": [
                render.comment(c, with_properties=with_props, rendered=rendered)
                for c in ordered[start : start + size]
            ],
        }

    @router.post("/issue/{id_or_key}/comment", status_code=201)
    async def add_comment(
        id_or_key: str, request: Request, user: User = Depends(current_user)
    ) -> Any:
        body = await read_object(request)
        issue = find(id_or_key, user)
        if not isinstance(body.get("body"), str):
            raise JiraError(400, [], {"comment": "Comment body can not be empty!"})
        comment = sim.service.add_comment(
            user, issue, body["body"], body.get("visibility"), body.get("properties")
        )
        return sim.renderer().comment(comment, with_properties=bool(comment.properties))

    @router.get("/issue/{id_or_key}/comment/{comment_id}")
    async def get_comment(
        id_or_key: str,
        comment_id: str,
        expand: str | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        comment = sim.service.comment(find(id_or_key, user), comment_id)
        wanted = split_csv(expand)
        return sim.renderer().comment(
            comment, with_properties="properties" in wanted, rendered="renderedBody" in wanted
        )

    @router.put("/issue/{id_or_key}/comment/{comment_id}")
    async def edit_comment(
        id_or_key: str, comment_id: str, request: Request, user: User = Depends(current_user)
    ) -> Any:
        body = await read_object(request)
        issue = find(id_or_key, user)
        if not isinstance(body.get("body"), str):
            raise JiraError(400, [], {"comment": "Comment body can not be empty!"})
        comment = sim.service.edit_comment(
            user, issue, comment_id, body["body"], body.get("visibility")
        )
        return sim.renderer().comment(comment)

    @router.delete("/issue/{id_or_key}/comment/{comment_id}", status_code=NO_CONTENT)
    async def delete_comment(
        id_or_key: str, comment_id: str, user: User = Depends(current_user)
    ) -> Response:
        sim.service.delete_comment(user, find(id_or_key, user), comment_id)
        return Response(status_code=NO_CONTENT)

    # remote links

    def link_of(issue: Issue, link_id: str) -> RemoteLink:
        found = next((lk for lk in issue.remote_links if str(lk.id) == link_id), None)
        if found is None:
            raise JiraError(404, f"No remote link with id '{link_id}' exists on this issue.")
        return found

    def link_data(body: dict[str, Any]) -> dict[str, Any]:
        obj = body.get("object")
        errors = {}
        if not isinstance(obj, dict) or not obj.get("url"):
            errors["url"] = "'url' is required."
        if not isinstance(obj, dict) or not obj.get("title"):
            errors["title"] = "'title' is required."
        if errors:
            raise JiraError(400, [], errors)
        return {k: body[k] for k in ("application", "relationship", "object") if k in body}

    @router.get("/issue/{id_or_key}/remotelink")
    async def remote_links(
        id_or_key: str,
        globalId: str | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        issue = find(id_or_key, user)
        render = sim.renderer()
        links = [lk for lk in issue.remote_links if globalId is None or lk.global_id == globalId]
        if globalId is not None:
            if not links:
                raise JiraError(
                    404, f"No remote link with globalId '{globalId}' exists on this issue."
                )
            return render.remote_link(issue, links[0])
        return [render.remote_link(issue, lk) for lk in links]

    @router.post("/issue/{id_or_key}/remotelink")
    async def upsert_remote_link(
        id_or_key: str, request: Request, user: User = Depends(current_user)
    ) -> Any:
        body = await read_object(request)
        issue = find(id_or_key, user)
        if "LINK_ISSUES" not in user.permissions:
            raise forbidden("link issues")
        data = link_data(body)
        global_id = body.get("globalId")
        link = next(
            (lk for lk in issue.remote_links if global_id and lk.global_id == global_id), None
        )
        status = 200
        if link is None:
            link = RemoteLink(int(sim.state.next_id("remotelink")), global_id, data)
            issue.remote_links.append(link)
            status = 201
        else:
            link.data = data
        sim.service.touch(user, issue, "remotelink")
        self_url = f"{sim.base_url}/rest/api/2/issue/{issue.key}/remotelink/{link.id}"
        return JSONResponse({"id": link.id, "self": self_url}, status_code=status)

    @router.get("/issue/{id_or_key}/remotelink/{link_id}")
    async def remote_link(id_or_key: str, link_id: str, user: User = Depends(current_user)) -> Any:
        issue = find(id_or_key, user)
        return sim.renderer().remote_link(issue, link_of(issue, link_id))

    @router.put("/issue/{id_or_key}/remotelink/{link_id}", status_code=NO_CONTENT)
    async def update_remote_link(
        id_or_key: str, link_id: str, request: Request, user: User = Depends(current_user)
    ) -> Response:
        body = await read_object(request)
        issue = find(id_or_key, user)
        if "LINK_ISSUES" not in user.permissions:
            raise forbidden("link issues")
        link = link_of(issue, link_id)
        link.data = link_data(body)
        link.global_id = body.get("globalId", link.global_id)
        sim.service.touch(user, issue, "remotelink")
        return Response(status_code=NO_CONTENT)

    @router.delete("/issue/{id_or_key}/remotelink/{link_id}", status_code=NO_CONTENT)
    async def delete_remote_link(
        id_or_key: str, link_id: str, user: User = Depends(current_user)
    ) -> Response:
        issue = find(id_or_key, user)
        if "LINK_ISSUES" not in user.permissions:
            raise forbidden("link issues")
        issue.remote_links.remove(link_of(issue, link_id))
        sim.service.touch(user, issue, "remotelink")
        return Response(status_code=NO_CONTENT)

    @router.delete("/issue/{id_or_key}/remotelink", status_code=NO_CONTENT)
    async def delete_remote_link_by_global_id(
        id_or_key: str,
        globalId: str,
        user: User = Depends(current_user),
    ) -> Response:
        issue = find(id_or_key, user)
        if "LINK_ISSUES" not in user.permissions:
            raise forbidden("link issues")
        issue.remote_links = [lk for lk in issue.remote_links if lk.global_id != globalId]
        sim.service.touch(user, issue, "remotelink")
        return Response(status_code=NO_CONTENT)

    # search

    def run_search(
        user: User,
        jql: str,
        start_at: int,
        max_results: int | None,
        fields: list[str],
        expand: list[str],
    ) -> dict[str, Any]:
        refuse_removed_search(sim)
        start, size = paging(start_at, max_results, default=50, cap=MAX_RESULTS_CAP)
        try:
            found = search(sim.state, jql)
        except JqlError as exc:
            raise JiraError(400, str(exc)) from None
        if "BROWSE_PROJECTS" not in user.permissions:
            found = []
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(found),
            "issues": [
                render_issue(i, fields, expand, [], "*navigable")
                for i in found[start : start + size]
            ],
        }

    def run_search_jql(
        user: User, jql: str, token: Any, max_results: Any, fields: list[str]
    ) -> dict[str, Any]:
        """Cloud's `/search/jql`: paged by an opaque `nextPageToken`, no total, only `id` unless
        fields are asked for. Jira Server/Data Center has no such endpoint (404)."""
        if sim.flavor == "server":
            raise JiraError(404, "null for uri: /rest/api/2/search/jql")
        try:
            start = int(str(token or "0"), 16) if token else 0
        except ValueError:
            raise JiraError(400, "The provided next page token is invalid or expired.") from None
        _, size = paging(0, max_results, default=50, cap=MAX_RESULTS_CAP)
        try:
            found = search(sim.state, jql)
        except JqlError as exc:
            raise JiraError(400, str(exc)) from None
        if "BROWSE_PROJECTS" not in user.permissions:
            found = []
        page = found[start : start + size]
        following = start + len(page)
        answer: dict[str, Any] = {
            "issues": [render_issue(i, fields, [], [], "id") for i in page],
            "isLast": following >= len(found),
        }
        if following < len(found):
            answer["nextPageToken"] = format(following, "x")
        return answer

    @router.get("/search/jql")
    async def search_jql_get(
        jql: str = "",
        nextPageToken: str | None = None,
        maxResults: int | None = None,
        fields: str | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        return run_search_jql(user, jql, nextPageToken, maxResults, split_csv(fields))

    @router.post("/search/jql")
    async def search_jql_post(request: Request, user: User = Depends(current_user)) -> Any:
        body = await read_object(request)
        return run_search_jql(
            user,
            str(body.get("jql") or ""),
            body.get("nextPageToken"),
            body.get("maxResults"),
            split_csv(body.get("fields")),
        )

    @router.get("/search")
    async def search_get(
        jql: str = "",
        startAt: int = 0,
        maxResults: int | None = None,
        fields: str | None = None,
        expand: str | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        return run_search(user, jql, startAt, maxResults, split_csv(fields), split_csv(expand))

    @router.post("/search")
    async def search_post(request: Request, user: User = Depends(current_user)) -> Any:
        refuse_removed_search(sim)
        body = await read_object(request)
        return run_search(
            user,
            str(body.get("jql") or ""),
            int(body.get("startAt") or 0),
            body.get("maxResults"),
            split_csv(body.get("fields")),
            split_csv(body.get("expand")),
        )

    return router


def build_v3_search_router(sim: JiraSimulator) -> APIRouter:
    """Only the removed v3 search: the simulator otherwise speaks v2."""
    router = APIRouter(prefix="/rest/api/3")

    @router.api_route("/search", methods=["GET", "POST"])
    async def removed_search(request: Request) -> Any:
        sim.authenticate(request.headers.get("authorization"))
        refuse_removed_search(sim)
        raise JiraError(404, f"null for uri: {sim.base_url}/rest/api/3/search")

    return router
