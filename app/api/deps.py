"""Dependencies every router shares: settings, the unit-of-work session, the format, auth."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPBasic, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.api.formats import Format, format_for_path
from app.core.db import lost_a_race, transaction
from app.core.errors import LostRace, Unauthorized
from app.core.security import tokens_equal
from app.core.settings import Settings
from app.core.wire import MAX_ID
from app.integration.services import Services
from app.outgoing.sender import EventSender


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# The integration's long-lived services: the Jira client pool and the secret box.
ServicesDep = Annotated[Services, Depends(get_services)]


async def get_event_sender(request: Request) -> EventSender:
    sender: EventSender = request.app.state.services.events
    return sender


# The outgoing events' sender (one HTTP client, egress rules on every connection).
EventSenderDep = Annotated[EventSender, Depends(get_event_sender)]


@asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back on error (`LostRace` when a
    concurrent transaction took the same rows first); jobs it enqueued start at once."""
    state = request.app.state
    try:
        async with transaction(state.session_factory, state.waker.after_commit) as session:
            yield session
    except DBAPIError as exc:
        if lost_a_race(exc):
            raise LostRace from exc
        raise


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    async with unit_of_work(request) as session:
        yield session


# scope="function": the commit happens before the answer is sent, so a failed commit is an
# error answer (never a 2xx for a change that was lost) and a caller reads its own writes.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_format(request: Request) -> Format:
    return format_for_path(request.url.path)


FormatDep = Annotated[Format, Depends(get_format)]


def presented_token(authorization: str | None) -> str | None:
    """The API token from `Basic <user:token>` (any user name) or `Bearer <token>`."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, sep, password = decoded.partition(":")
        return password if sep else None
    return None


class ApiTokenBasic(HTTPBasic):
    """HTTP Basic with any user name and the API token as password, as OpenAPI documents it.
    A malformed header is not refused here but read as no token, so every refusal is the same
    401 Error body from `require_api_token`."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        authorization = request.headers.get("authorization") or ""
        return presented_token(authorization) if authorization[:6].lower() == "basic " else None


class ApiTokenBearer(HTTPBearer):
    """The API token as a Bearer token, as OpenAPI documents it."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        authorization = request.headers.get("authorization") or ""
        return presented_token(authorization) if authorization[:7].lower() == "bearer " else None


BASIC = ApiTokenBasic(
    scheme_name="ApiTokenBasic",
    description="Any user name (it names you in ticket History); the API token as password.",
    auto_error=False,
)
BEARER = ApiTokenBearer(
    scheme_name="ApiTokenBearer", description="The API token as a Bearer token.", auto_error=False
)


async def require_api_token(
    settings: SettingsDep,
    basic: Annotated[str | None, Security(BASIC)],
    bearer: Annotated[str | None, Security(BEARER)],
) -> None:
    token = basic or bearer
    if token is None or not tokens_equal(token, settings.api_token.get_secret_value()):
        raise Unauthorized("A valid API token is required (HTTP Basic password or Bearer token).")


async def get_actor(request: Request) -> str:
    """Who made a change, for History lines: the Basic auth user name, else "API"."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "API"
        name = "".join(ch for ch in user.partition(":")[0] if ch.isprintable()).strip()
        if name:
            return name[:255]
    return "API"


ActorDep = Annotated[str, Depends(get_actor)]


# An id in a path: outside the column's range is a 400 (validation), never a database overflow.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
