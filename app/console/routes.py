"""The console's sign-in and sign-out, and where its screens and assets are mounted."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.console import catalog, crm, jira, overview, sync, tickets
from app.console.deps import (
    CsrfRefused,
    CurrentDep,
    FormDep,
    SettingsDep,
    SignInRequired,
    current_session,
)
from app.console.pages import (
    PREFIX,
    STATIC_DIR,
    fresh_session,
    redirect,
    render,
    set_session_cookie,
)
from app.console.throttle import SignInThrottle
from app.core.errors import ApiError
from app.core.security import tokens_equal

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PROBLEMS = {404: "There is no such page.", 405: "That cannot be done here."}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _throttle(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.console_throttle
    return throttle


@router.get("/sign-in")
async def sign_in_page(request: Request, settings: SettingsDep, current: CurrentDep) -> Response:
    if current is not None and current.signed_in:
        return redirect(PREFIX)
    session = current or fresh_session(settings, signed_in=False)
    response = render(request, "sign_in.html", session)
    set_session_cookie(response, session, settings)
    return response


@router.post("/sign-in")
async def sign_in(
    request: Request, settings: SettingsDep, current: CurrentDep, form: FormDep
) -> Response:
    client, now = _client(request), time.time()
    wait = _throttle(request).wait(client, now)
    if wait > 0:
        refused = render(
            request, "sign_in.html", current, 429, error="Too many wrong tokens: wait a moment."
        )
        refused.headers["Retry-After"] = str(int(wait) + 1)
        return refused
    token = form.get("token")
    expected = settings.api_token.get_secret_value()
    if not isinstance(token, str) or not tokens_equal(token.strip(), expected):
        _throttle(request).failed(client, now)
        return render(request, "sign_in.html", current, 401, error="That API token is not right.")
    _throttle(request).succeeded(client)
    response = redirect(PREFIX)
    set_session_cookie(response, fresh_session(settings, signed_in=True), settings)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, settings: SettingsDep, form: FormDep) -> Response:
    response = redirect(f"{PREFIX}/sign-in")
    set_session_cookie(response, fresh_session(settings, signed_in=False), settings)
    return response


def include_console(app: FastAPI) -> None:
    """The console's pages and assets, and what its refusals look like."""
    app.include_router(router)
    app.include_router(overview.router)
    app.include_router(jira.router)
    app.include_router(sync.router)
    app.include_router(tickets.router)
    app.include_router(catalog.router)
    app.include_router(crm.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console-static")

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        return redirect(f"{PREFIX}/sign-in")

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        session = current_session(request, request.app.state.settings)
        return render(request, "refused.html", session, 403)

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    _html_errors_under_console(app)


def _html_errors_under_console(app: FastAPI) -> None:
    """Under `/console` a refusal (no such ticket, no such page) is a page, not an Error body;
    elsewhere the handlers installed before answer as they do."""
    for error_type in (ApiError, StarletteHTTPException, RequestValidationError):
        fallback = app.exception_handlers.get(error_type)

        async def handle(request: Request, exc: Exception, fallback: Any = fallback) -> Response:
            answer: Response | None = await fallback(request, exc) if fallback else None
            if answer is not None and not request.url.path.startswith(PREFIX):
                return answer
            status = answer.status_code if answer is not None else 400
            message = getattr(exc, "message", None) or PROBLEMS.get(status, "That did not work.")
            session = current_session(request, request.app.state.settings)
            page = render(request, "problem.html", session, status, message=message)
            for name in ("allow", "retry-after"):  # what the answer says beyond its body
                if answer is not None and name in answer.headers:
                    page.headers[name] = answer.headers[name]
            return page

        app.add_exception_handler(error_type, handle)
