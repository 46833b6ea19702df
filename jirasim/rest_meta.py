"""REST v2: who am I, permissions, server info, fields, projects, createmeta, users."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request

from jirasim.errors import JiraError
from jirasim.model import PERMISSIONS, FieldDef, IssueType, Project, User
from jirasim.rest_common import paging, split_csv
from jirasim.state import PRIORITIES, jira_time

if TYPE_CHECKING:
    from jirasim.simulator import JiraSimulator

GDPR_STRICT = "The '{}' query parameter is not supported: Jira Cloud knows users by accountId."
CREATE_SCREEN = ("summary", "issuetype", "project", "description", "reporter", "assignee",
                 "priority", "labels", "duedate")  # fmt: skip


def build_meta_router(sim: JiraSimulator) -> APIRouter:
    router = APIRouter(prefix="/rest/api/2")

    def no_such_endpoint(request: Request) -> None:
        """Cloud-only endpoints (per-project createmeta, `users/search`) are a 404 on Server."""
        if sim.flavor == "server":
            raise JiraError(404, f"null for uri: {sim.base_url}{request.url.path}")

    async def current_user(request: Request) -> User:
        return sim.authenticate(request.headers.get("authorization"))

    def visible_projects(user: User) -> list[Project]:
        return list(sim.state.projects.values()) if "BROWSE_PROJECTS" in user.permissions else []

    @router.get("/myself")
    async def myself(user: User = Depends(current_user)) -> Any:
        out = sim.renderer().user(user, with_email=True) or {}
        out.update(locale="en_US", groups={"size": 1, "items": []})
        return out

    @router.get("/mypermissions")
    async def my_permissions(
        permissions: str | None = None, user: User = Depends(current_user)
    ) -> Any:
        if not permissions and sim.flavor == "cloud":
            raise JiraError(400, "The 'permissions' query parameter is required.")
        keys = split_csv(permissions) or list(PERMISSIONS)
        unknown = [k for k in keys if k not in PERMISSIONS]
        if unknown:
            raise JiraError(404, f"No permission with key '{unknown[0]}' exists.")
        return {
            "permissions": {
                key: {
                    "id": str(n + 10),
                    "key": key,
                    "name": PERMISSIONS[key],
                    "type": "PROJECT",
                    "description": f"Ability to {PERMISSIONS[key].lower()}.",
                    "havePermission": key in user.permissions,
                }
                for n, key in enumerate(keys)
            }
        }

    @router.get("/serverInfo")
    async def server_info(user: User = Depends(current_user)) -> Any:
        cloud = sim.flavor == "cloud"
        return {
            "baseUrl": sim.base_url,
            "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.2",
            "versionNumbers": [1001, 0, 0] if cloud else [9, 12, 2],
            "deploymentType": "Cloud" if cloud else "Server",
            "buildNumber": 100260 if cloud else 9120002,
            "buildDate": "2026-01-01T00:00:00.000+0000",
            "serverTime": jira_time(sim.state.now()),
            "scmInfo": "jirasim",
            "serverTitle": "Jira Simulator",
        }

    @router.get("/field")
    async def fields(user: User = Depends(current_user)) -> Any:
        render = sim.renderer()
        return [render.field_def(f) for f in sim.state.fields.values()]

    @router.get("/issuetype")
    async def issue_types(user: User = Depends(current_user)) -> Any:
        return [sim.renderer().issue_type(t) for t in sim.state.issue_types.values()]

    @router.get("/status")
    async def statuses(user: User = Depends(current_user)) -> Any:
        return [sim.renderer().status(s) for s in sim.state.statuses.values()]

    @router.get("/priority")
    async def priorities(user: User = Depends(current_user)) -> Any:
        return [sim.renderer().priority(pid) for pid, _ in PRIORITIES]

    @router.get("/project")
    async def projects(user: User = Depends(current_user)) -> Any:
        return [sim.renderer().project(p) for p in visible_projects(user)]

    @router.get("/project/{id_or_key}")
    async def project(id_or_key: str, user: User = Depends(current_user)) -> Any:
        found = sim.state.project(id_or_key)
        if found not in visible_projects(user):
            raise JiraError(404, f"No project could be found with key '{id_or_key}'.")
        return sim.renderer().project(found, full=True)

    def field_meta(
        project: Project, it: IssueType, fdef: FieldDef, *, new_style: bool
    ) -> dict[str, Any]:
        render = sim.renderer()
        out: dict[str, Any] = {
            "required": fdef.id in sim.state.required_fields(project, it),
            "schema": render.schema(fdef),
            "name": fdef.name,
            "key": fdef.id,
        }
        if new_style:
            out["fieldId"] = fdef.id
        out.update(hasDefaultValue=fdef.id in ("priority", "reporter"), operations=["set"])
        if fdef.kind.startswith("array:"):
            out["operations"] = ["add", "set", "remove"]
        allowed = render.allowed_values(fdef, project)
        if allowed is not None:
            out["allowedValues"] = allowed
        return out

    def screen(project: Project, it: IssueType) -> list[FieldDef]:
        state = sim.state
        system = [state.fields[f] for f in CREATE_SCREEN]
        return system + [f for f in state.fields.values() if f.custom]

    def types_of(project: Project) -> list[IssueType]:
        return [sim.state.issue_types[i] for i in project.issue_type_ids]

    @router.get("/issue/createmeta")
    async def createmeta(
        projectKeys: str | None = None,
        projectIds: str | None = None,
        issuetypeIds: str | None = None,
        issuetypeNames: str | None = None,
        expand: str | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        keys, ids = split_csv(projectKeys), split_csv(projectIds)
        type_ids, type_names = (
            split_csv(issuetypeIds),
            [n.lower() for n in split_csv(issuetypeNames)],
        )
        with_fields = "projects.issuetypes.fields" in split_csv(expand)
        render = sim.renderer()
        out = []
        for p in visible_projects(user):
            if (keys or ids) and p.key not in keys and p.id not in ids:
                continue
            types = []
            for it in types_of(p):
                if (
                    (type_ids or type_names)
                    and it.id not in type_ids
                    and it.name.lower() not in type_names
                ):
                    continue
                entry: dict[str, Any] = {**render.issue_type(it), "expand": "fields"}
                if with_fields:
                    entry["fields"] = {
                        f.id: field_meta(p, it, f, new_style=False) for f in screen(p, it)
                    }
                types.append(entry)
            out.append({**render.project(p), "issuetypes": types})
        return {"expand": "projects", "projects": out}

    def page(values: list[Any], start_at: int, max_results: int | None) -> dict[str, Any]:
        start, size = paging(start_at, max_results, default=50, cap=200)
        chunk = values[start : start + size]
        return {
            "maxResults": size,
            "startAt": start,
            "total": len(values),
            "isLast": start + len(chunk) >= len(values),
            "values": chunk,
        }

    @router.get("/issue/createmeta/{project_id_or_key}/issuetypes")
    async def createmeta_types(
        project_id_or_key: str,
        request: Request,
        startAt: int = 0,
        maxResults: int | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        no_such_endpoint(request)
        p = sim.state.project(project_id_or_key)
        render = sim.renderer()
        return page([render.issue_type(it) for it in types_of(p)], startAt, maxResults)

    @router.get("/issue/createmeta/{project_id_or_key}/issuetypes/{issue_type_id}")
    async def createmeta_fields(
        project_id_or_key: str,
        issue_type_id: str,
        request: Request,
        startAt: int = 0,
        maxResults: int | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        no_such_endpoint(request)
        p = sim.state.project(project_id_or_key)
        it = sim.state.issue_types.get(issue_type_id)
        if it is None or it.id not in p.issue_type_ids:
            raise JiraError(
                404, "Issue type with given ID does not exist or is not in the project."
            )
        values = [field_meta(p, it, f, new_style=True) for f in screen(p, it)]
        return page(values, startAt, maxResults)

    # users

    def user_page(users: list[User], start_at: int, max_results: int | None) -> list[Any]:
        start, size = paging(start_at, max_results, default=50, cap=1000)
        render = sim.renderer()
        return [render.user(u) for u in users[start : start + size]]

    @router.get("/user/search")
    async def user_search(
        username: str | None = None,
        query: str | None = None,
        startAt: int = 0,
        maxResults: int | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        if username is not None and sim.flavor == "cloud":
            raise JiraError(400, GDPR_STRICT.format("username"))
        needle = (username or query or "").lower()
        if not needle:
            raise JiraError(400, "The username query parameter was not provided")
        found = [
            u
            for u in sim.state.users.values()
            if needle == "." or any(needle in s.lower() for s in (u.name, u.email, u.display_name))
        ]
        return user_page(found, startAt, maxResults)

    @router.get("/users/search")
    async def users_search(
        request: Request,
        startAt: int = 0,
        maxResults: int | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        no_such_endpoint(request)
        return user_page(list(sim.state.users.values()), startAt, maxResults)

    @router.get("/user")
    async def get_user(
        accountId: str | None = None,
        username: str | None = None,
        key: str | None = None,
        user: User = Depends(current_user),
    ) -> Any:
        if sim.flavor == "cloud" and (username or key) and not accountId:
            raise JiraError(400, GDPR_STRICT.format("username" if username else "key"))
        ident = accountId or username or key
        found = sim.state.find_user(ident) if ident else None
        if found is None:
            raise JiraError(
                404, f"The user with the specified identifier '{ident}' does not exist."
            )
        return sim.renderer().user(found)

    return router
