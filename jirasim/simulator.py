"""`JiraSimulator`: the state, the ASGI app, and the Python API tests drive it with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from jirasim.auth import authenticate
from jirasim.errors import JiraError
from jirasim.events import JiraEvent
from jirasim.faults import Fault, FaultRegistry
from jirasim.issues import IssueService
from jirasim.middleware import FaultAndRecordMiddleware
from jirasim.model import (
    PERMISSIONS,
    SD_PUBLIC_COMMENT,
    Comment,
    FieldDef,
    Issue,
    IssueType,
    Project,
    Status,
    User,
)
from jirasim.recorder import RecordedRequest, RequestLog
from jirasim.render import Renderer
from jirasim.seed import base_statuses, seed_demo
from jirasim.server import RunningServer, serve
from jirasim.state import Clock, SimState, utc_now
from jirasim.webhooks import Delivery, Style, WebhookDispatcher, WebhookTarget


class JiraSimulator:
    """An in-memory Jira (REST v2 subset, webhooks, faults) behind a FastAPI app (`.app`)."""

    def __init__(
        self,
        *,
        seed: bool = True,
        base_url: str = "http://jira.test",
        flavor: Literal["cloud", "server"] = "cloud",
        clock: Clock = utc_now,
        webhook_client: httpx.AsyncClient | None = None,
        webhook_retries: int = 3,
        webhook_retry_delay: float = 0.02,
    ) -> None:
        self.base_url = base_url
        self.flavor = flavor
        self.clock = clock
        self.seeded = seed
        self.faults = FaultRegistry()
        self.request_log = RequestLog()
        self.webhooks = WebhookDispatcher(
            webhook_client, max_retries=webhook_retries, retry_delay=webhook_retry_delay
        )
        self.state, self.service = self._fresh_state(seed)
        self.app = self._build_app()

    def _fresh_state(self, seed: bool) -> tuple[SimState, IssueService]:
        state = SimState(clock=self.clock, flavor=self.flavor)
        base_statuses(state)
        if seed:
            seed_demo(state)
        return state, IssueService(state, self._publish)

    def _publish(self, event: JiraEvent) -> None:
        self.webhooks.publish(event, self.state, self.base_url)

    def _build_app(self) -> FastAPI:
        from jirasim.control import build_control_router
        from jirasim.rest_issues import build_issue_router, build_v3_search_router
        from jirasim.rest_meta import build_meta_router
        from jirasim.rest_webhooks import build_webhook_router

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            yield
            await self.aclose()

        app = FastAPI(title="Jira simulator", lifespan=lifespan, docs_url="/_sim/docs")
        app.state.sim = self
        app.add_middleware(
            FaultAndRecordMiddleware,
            faults=self.faults,
            log=self.request_log,
            cloud=lambda: self.flavor == "cloud",
        )

        async def jira_error(_: Request, exc: Exception) -> JSONResponse:
            assert isinstance(exc, JiraError)
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

        async def invalid(_: Request, exc: Exception) -> JSONResponse:
            assert isinstance(exc, RequestValidationError)
            errors = {".".join(str(p) for p in e["loc"][1:]): e["msg"] for e in exc.errors()}
            return JSONResponse({"errorMessages": [], "errors": errors}, status_code=400)

        app.add_exception_handler(JiraError, jira_error)
        app.add_exception_handler(RequestValidationError, invalid)
        app.include_router(build_meta_router(self))
        app.include_router(build_issue_router(self))
        app.include_router(build_v3_search_router(self))
        app.include_router(build_webhook_router(self))
        app.include_router(build_control_router(self))
        return app

    # plumbing used by the routers

    def authenticate(self, authorization: str | None) -> User:
        return authenticate(self.state, authorization)

    def renderer(self, flavor: str | None = None) -> Renderer:
        return Renderer(self.state, self.base_url, flavor or self.flavor)

    def serve(
        self, host: str = "127.0.0.1", port: int = 0
    ) -> AbstractAsyncContextManager[RunningServer]:
        """Run under uvicorn in this loop: `async with sim.serve() as server: server.base_url`."""
        return serve(self, host, port)

    def reset(self, *, seed: bool | None = None, keep_webhooks: bool = False) -> None:
        """A fresh (optionally seeded) state; faults, request record and deliveries cleared."""
        targets = dict(self.webhooks.targets)
        self.state, self.service = self._fresh_state(self.seeded if seed is None else seed)
        self.faults.clear()
        self.request_log.clear()
        self.webhooks.reset()
        if keep_webhooks:
            self.webhooks.targets.update(targets)

    async def aclose(self) -> None:
        await self.webhooks.aclose()

    # configuration

    def add_user(
        self,
        name: str,
        *,
        email: str | None = None,
        display_name: str | None = None,
        tokens: Iterable[str] = (),
        permissions: Iterable[str] | None = None,
        active: bool = True,
        account_type: str = "atlassian",
    ) -> User:
        """A user; `account_type="app"` is an app's account (Cloud), `active=False` a
        deactivated one."""
        return self.state.add_user(
            name,
            email=email,
            display_name=display_name,
            tokens=tokens,
            permissions=permissions,
            active=active,
            account_type=account_type,
        )

    def set_permissions(self, user: str, permissions: Iterable[str]) -> None:
        """Grant exactly these permission keys (e.g. `LINK_ISSUES`) to the user."""
        perms = set(permissions)
        if perms - set(PERMISSIONS):
            raise ValueError(f"unknown permissions: {sorted(perms - set(PERMISSIONS))}")
        self.state.user(user).permissions = perms

    def revoke_permissions(self, user: str, *permissions: str) -> None:
        self.state.user(user).permissions -= set(permissions)

    def add_project(
        self,
        key: str,
        name: str | None = None,
        issue_types: Iterable[str] = ("Task",),
        type_key: str = "software",
    ) -> Project:
        """A project; `type_key="service_desk"` makes it a Jira Service Management one."""
        return self.state.add_project(key, name, issue_types, type_key)

    def add_issue_type(self, name: str, project: str | None = None) -> IssueType:
        it = self.state.add_issue_type(name)
        if project is not None and it.id not in self.state.project(project).issue_type_ids:
            self.state.project(project).issue_type_ids.append(it.id)
        return it

    def add_status(
        self, name: str, category: Literal["new", "indeterminate", "done"] = "indeterminate"
    ) -> Status:
        return self.state.add_status(name, category)

    def add_field(self, name: str, kind: str, options: Iterable[str] = ()) -> FieldDef:
        """A custom field of kind string, number, option, array:option, array:string, date,
        datetime or user."""
        return self.state.add_field(name, kind, options)

    def set_required_fields(self, project: str, issue_type: str, fields: Iterable[str]) -> None:
        """Fields (ids or names) required on create for a project + issue type."""
        self.state.set_required(project, issue_type, fields)

    def field_id(self, name: str) -> str:
        return self.state.field_by_name_or_id(name).id

    # Jira-side actions (what a Jira user does in the UI)

    def issue(self, key: str) -> Issue:
        return self.state.issue(key)

    def get_issue(self, key: str) -> dict[str, Any]:
        """The issue as `GET /rest/api/2/issue/{key}` answers it."""
        return self.renderer().issue(self.state.issue(key))

    def create_issue(
        self,
        project: str,
        summary: str,
        *,
        issue_type: str = "Task",
        fields: dict[str, Any] | None = None,
        user: str | None = None,
    ) -> Issue:
        payload = {
            "project": {"key": project},
            "issuetype": {"name": issue_type},
            "summary": summary,
            **self._ui_fields(fields or {}),
        }
        return self.service.create_issue(self.state.user(user), payload)

    def edit_issue(self, key: str, fields: dict[str, Any], *, user: str | None = None) -> None:
        """Set fields by id or name; option fields also take the plain option value."""
        issue = self.state.issue(key)
        self.service.edit_issue(self.state.user(user), issue, self._ui_fields(fields))

    def transition_issue(self, key: str, status: str, *, user: str | None = None) -> None:
        """Change the status (by name or id) — every status is reachable."""
        issue = self.state.issue(key)
        self.service.transition(self.state.user(user), issue, status=status)

    def add_comment(
        self,
        key: str,
        body: str,
        *,
        user: str | None = None,
        visibility: dict[str, str] | None = None,
        internal: bool = False,
    ) -> Comment:
        """A comment; `internal` makes it a Service Management internal note."""
        issue = self.state.issue(key)
        properties = [{"key": SD_PUBLIC_COMMENT, "value": {"internal": True}}] if internal else []
        return self.service.add_comment(self.state.user(user), issue, body, visibility, properties)

    def edit_comment(
        self, key: str, comment_id: str, body: str, *, user: str | None = None
    ) -> Comment:
        issue = self.state.issue(key)
        return self.service.edit_comment(self.state.user(user), issue, comment_id, body)

    def delete_comment(self, key: str, comment_id: str, *, user: str | None = None) -> None:
        issue = self.state.issue(key)
        self.service.delete_comment(self.state.user(user), issue, comment_id)

    def move_issue(
        self, key: str, project: str, *, issue_type: str | None = None, user: str | None = None
    ) -> Issue:
        """Move to another project: a new key; the old key still resolves."""
        issue = self.state.issue(key)
        self.service.move_issue(self.state.user(user), issue, project, issue_type)
        return issue

    def delete_issue(self, key: str, *, user: str | None = None) -> None:
        self.service.delete_issue(self.state.user(user), self.state.issue(key))

    def _ui_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in fields.items():
            try:
                fdef = self.state.field_by_name_or_id(name)
            except ValueError:
                out[name] = value
                continue
            if fdef.kind == "option" and isinstance(value, str):
                value = {"value": value}
            elif fdef.kind == "array:option" and isinstance(value, list):
                value = [{"value": v} if isinstance(v, str) else v for v in value]
            elif fdef.kind == "priority" and isinstance(value, str):
                value = {"name": value}
            out[fdef.id] = value
        return out

    # webhooks

    def register_webhook(
        self,
        url: str,
        *,
        secret: str | None = None,
        events: list[str] | None = None,
        style: Style = "cloud",
        secret_in: Literal["header", "query"] | None = None,
    ) -> WebhookTarget:
        """Events default to all; a secret signs (cloud) or goes in `?secret=` (server)."""
        return self.webhooks.register(
            url, secret=secret, events=events, style=style, secret_in=secret_in
        )

    def set_webhook_client(self, client: httpx.AsyncClient) -> None:
        self.webhooks.set_client(client)

    @property
    def deliveries(self) -> list[Delivery]:
        return self.webhooks.deliveries

    def pause_webhooks(self) -> None:
        self.webhooks.pause()

    def resume_webhooks(self) -> None:
        self.webhooks.resume()

    def drop_next_webhooks(self, count: int = 1) -> None:
        self.webhooks.drop_next(count)

    def redeliver_webhook(self, delivery_id: int, *, as_retry: bool = False) -> Delivery:
        return self.webhooks.redeliver(delivery_id, as_retry=as_retry)

    async def webhooks_idle(self, timeout: float = 10.0) -> None:
        await self.webhooks.idle(timeout)

    # faults and the request record

    def add_fault(self, method: str = "*", path: str = ".*", **options: Any) -> Fault:
        """Options are `Fault`'s: status, body, headers, retry_after, rate_limit_reason, delay,
        drop, after_write, times (None = unlimited), duration (seconds)."""
        return self.faults.add(Fault(method=method, path=path, **options))

    def remove_fault(self, fault_id: int) -> None:
        self.faults.remove(fault_id)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.request_log.entries

    def clear_requests(self) -> None:
        self.request_log.clear()
