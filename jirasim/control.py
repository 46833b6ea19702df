"""The `/_sim/` control API: configure, act as a Jira user, faults, webhooks, request record."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from jirasim.errors import JiraError
from jirasim.faults import Fault
from jirasim.rest_common import read_object

if TYPE_CHECKING:
    from jirasim.simulator import JiraSimulator

FAULT_OPTIONS = {f.name for f in dataclass_fields(Fault)} - {"id", "hits", "expires_at"}
NO_CONTENT = 204


def build_control_router(sim: JiraSimulator) -> APIRouter:
    router = APIRouter(prefix="/_sim")

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        return await read_object(request) if raw else {}

    def issue_json(key: str) -> dict[str, Any]:
        return sim.get_issue(key)

    def bad(exc: Exception) -> JiraError:
        return JiraError(400, str(exc))

    @router.post("/reset", status_code=NO_CONTENT)
    async def reset(request: Request) -> Response:
        body = await body_of(request)
        flavor = body.get("flavor", sim.flavor)
        if flavor not in ("cloud", "server"):
            raise bad(ValueError("flavor is cloud (Jira Cloud today) or server (Data Center)"))
        sim.flavor = flavor
        sim.reset(seed=body.get("seed"), keep_webhooks=bool(body.get("keepWebhooks", False)))
        return Response(status_code=NO_CONTENT)

    # configuration

    @router.post("/users", status_code=201)
    async def add_user(request: Request) -> Any:
        b = await body_of(request)
        try:
            user = sim.add_user(
                b["name"],
                email=b.get("email"),
                display_name=b.get("displayName"),
                tokens=b.get("tokens", []),
                permissions=b.get("permissions"),
                active=bool(b.get("active", True)),
                account_type=str(b.get("accountType", "atlassian")),
            )
        except (KeyError, ValueError) as exc:
            raise bad(exc) from None
        return sim.renderer().user(user)

    @router.put("/users/{name}/permissions", status_code=NO_CONTENT)
    async def set_permissions(name: str, request: Request) -> Response:
        b = await body_of(request)
        try:
            sim.set_permissions(name, b.get("permissions", []))
        except ValueError as exc:
            raise bad(exc) from None
        return Response(status_code=NO_CONTENT)

    @router.post("/projects", status_code=201)
    async def add_project(request: Request) -> Any:
        b = await body_of(request)
        try:
            project = sim.add_project(
                b["key"],
                b.get("name"),
                b.get("issueTypes", ["Task"]),
                type_key=str(b.get("projectTypeKey", "software")),
            )
        except (KeyError, ValueError) as exc:
            raise bad(exc) from None
        return sim.renderer().project(project, full=True)

    @router.post("/issuetypes", status_code=201)
    async def add_issue_type(request: Request) -> Any:
        b = await body_of(request)
        return sim.renderer().issue_type(sim.add_issue_type(b["name"], b.get("project")))

    @router.post("/statuses", status_code=201)
    async def add_status(request: Request) -> Any:
        b = await body_of(request)
        category = b.get("category", "indeterminate")
        if category not in ("new", "indeterminate", "done"):
            raise JiraError(400, "category must be new, indeterminate or done")
        return sim.renderer().status(sim.add_status(b["name"], category))

    @router.post("/fields", status_code=201)
    async def add_field(request: Request) -> Any:
        b = await body_of(request)
        try:
            fdef = sim.add_field(b["name"], b["kind"], b.get("options", []))
        except (KeyError, ValueError) as exc:
            raise bad(exc) from None
        return sim.renderer().field_def(fdef)

    @router.put("/required-fields", status_code=NO_CONTENT)
    async def set_required(request: Request) -> Response:
        b = await body_of(request)
        try:
            sim.set_required_fields(b["project"], b["issueType"], b.get("fields", []))
        except (KeyError, ValueError) as exc:
            raise bad(exc) from None
        return Response(status_code=NO_CONTENT)

    # Jira-side actions

    @router.post("/issues", status_code=201)
    async def create_issue(request: Request) -> Any:
        b = await body_of(request)
        issue = sim.create_issue(
            b["project"], b["summary"], issue_type=b.get("issueType", "Task"),
            fields=b.get("fields"), user=b.get("user"),
        )  # fmt: skip
        return issue_json(issue.key)

    @router.post("/issues/{key}/transition")
    async def transition(key: str, request: Request) -> Any:
        b = await body_of(request)
        sim.transition_issue(key, b["status"], user=b.get("user"))
        return issue_json(key)

    @router.post("/issues/{key}/edit")
    async def edit(key: str, request: Request) -> Any:
        b = await body_of(request)
        sim.edit_issue(key, b.get("fields", {}), user=b.get("user"))
        return issue_json(key)

    @router.post("/issues/{key}/comments", status_code=201)
    async def add_comment(key: str, request: Request) -> Any:
        b = await body_of(request)
        comment = sim.add_comment(
            key,
            b["body"],
            user=b.get("user"),
            visibility=b.get("visibility"),
            internal=bool(b.get("internal", False)),
        )
        return sim.renderer().comment(comment)

    @router.put("/issues/{key}/comments/{comment_id}")
    async def edit_comment(key: str, comment_id: str, request: Request) -> Any:
        b = await body_of(request)
        return sim.renderer().comment(
            sim.edit_comment(key, comment_id, b["body"], user=b.get("user"))
        )

    @router.delete("/issues/{key}/comments/{comment_id}", status_code=NO_CONTENT)
    async def delete_comment(key: str, comment_id: str, user: str | None = None) -> Response:
        sim.delete_comment(key, comment_id, user=user)
        return Response(status_code=NO_CONTENT)

    @router.post("/issues/{key}/move")
    async def move(key: str, request: Request) -> Any:
        b = await body_of(request)
        issue = sim.move_issue(key, b["project"], issue_type=b.get("issueType"), user=b.get("user"))
        return issue_json(issue.key)

    @router.delete("/issues/{key}", status_code=NO_CONTENT)
    async def delete_issue(key: str, user: str | None = None) -> Response:
        sim.delete_issue(key, user=user)
        return Response(status_code=NO_CONTENT)

    @router.get("/changelog")
    async def changelog() -> Any:
        render = sim.renderer()
        return [
            {**render.history(e), "issueId": e.issue_id, "action": e.action}
            for e in sim.state.changelog
        ]

    # faults

    @router.get("/faults")
    async def faults() -> Any:
        return [f.as_dict() for f in sim.faults.rules]

    @router.post("/faults", status_code=201)
    async def add_fault(request: Request) -> Any:
        b = await body_of(request)
        unknown = set(b) - FAULT_OPTIONS
        if unknown:
            raise JiraError(
                400, f"unknown fault options {sorted(unknown)}; use {sorted(FAULT_OPTIONS)}"
            )
        try:
            return sim.add_fault(**b).as_dict()
        except Exception as exc:  # a bad regex or a wrong type: the caller's mistake
            raise bad(exc) from None

    @router.delete("/faults", status_code=NO_CONTENT)
    async def clear_faults() -> Response:
        sim.clear_faults()
        return Response(status_code=NO_CONTENT)

    @router.delete("/faults/{fault_id}", status_code=NO_CONTENT)
    async def remove_fault(fault_id: int) -> Response:
        sim.remove_fault(fault_id)
        return Response(status_code=NO_CONTENT)

    # request record

    @router.get("/requests")
    async def requests() -> Any:
        return [r.as_dict() for r in sim.requests]

    @router.delete("/requests", status_code=NO_CONTENT)
    async def clear_requests() -> Response:
        sim.clear_requests()
        return Response(status_code=NO_CONTENT)

    # webhooks

    @router.get("/webhooks")
    async def webhooks() -> Any:
        return {
            "paused": sim.webhooks.paused,
            "targets": [t.as_dict() for t in sim.webhooks.targets.values()],
        }

    @router.post("/webhooks", status_code=201)
    async def register(request: Request) -> Any:
        b = await body_of(request)
        try:
            target = sim.register_webhook(
                b["url"], secret=b.get("secret"), events=b.get("events"),
                style=b.get("style", "cloud"), secret_in=b.get("secretIn"),
            )  # fmt: skip
        except (KeyError, ValueError) as exc:
            raise bad(exc) from None
        return target.as_dict()

    @router.delete("/webhooks/{target_id}", status_code=NO_CONTENT)
    async def unregister(target_id: int) -> Response:
        sim.webhooks.unregister(target_id)
        return Response(status_code=NO_CONTENT)

    @router.get("/webhooks/deliveries")
    async def deliveries() -> Any:
        return [d.as_dict() for d in sim.deliveries]

    @router.post("/webhooks/deliveries/{delivery_id}/redeliver", status_code=201)
    async def redeliver(delivery_id: int, asRetry: bool = False) -> Any:
        try:
            return sim.redeliver_webhook(delivery_id, as_retry=asRetry).as_dict()
        except StopIteration:
            raise JiraError(404, f"No delivery {delivery_id}") from None

    @router.post("/webhooks/pause", status_code=NO_CONTENT)
    async def pause() -> Response:
        sim.pause_webhooks()
        return Response(status_code=NO_CONTENT)

    @router.post("/webhooks/resume", status_code=NO_CONTENT)
    async def resume() -> Response:
        sim.resume_webhooks()
        return Response(status_code=NO_CONTENT)

    @router.post("/webhooks/drop", status_code=NO_CONTENT)
    async def drop(request: Request) -> Response:
        b = await body_of(request)
        sim.drop_next_webhooks(int(b.get("count", 1)))
        return Response(status_code=NO_CONTENT)

    @router.post("/webhooks/idle", status_code=NO_CONTENT)
    async def idle(timeout: float = 10.0) -> Response:
        await sim.webhooks_idle(timeout)
        return Response(status_code=NO_CONTENT)

    return router
