"""What every console page needs: settings, one transaction per request, the signed session,
and the CSRF check of a posted form."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.console.cookies import COOKIE_NAME, ConsoleSession, csrf_matches, decode, signing_key
from app.core.db import transaction
from app.core.settings import Settings
from app.core.wire import MAX_ID


class SignInRequired(Exception):
    """The page needs a signed-in session: the answer is a redirect to the sign-in page."""


class CsrfRefused(Exception):
    """A posted form without this session's CSRF token: refused, nothing changed."""


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed before the answer is sent, rolled back on error;
    jobs it enqueued start at once."""
    state = request.app.state
    async with transaction(state.session_factory, state.waker.after_commit) as session:
        yield session


DbDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


def cookie_key(settings: Settings) -> bytes:
    return signing_key(
        settings.secret_key.get_secret_value(), settings.api_token.get_secret_value()
    )


def current_session(request: Request, settings: SettingsDep) -> ConsoleSession | None:
    return decode(request.cookies.get(COOKIE_NAME), cookie_key(settings), time.time())


CurrentDep = Annotated[ConsoleSession | None, Depends(current_session)]


def signed_in(current: CurrentDep) -> ConsoleSession:
    if current is None or not current.signed_in:
        raise SignInRequired
    return current


SignedInDep = Annotated[ConsoleSession, Depends(signed_in)]


async def checked_form(request: Request, current: CurrentDep) -> FormData:
    """The posted form, once its `csrf_token` is this session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not csrf_matches(current, sent if isinstance(sent, str) else None):
        raise CsrfRefused
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


# An id in a console path: outside the column's range is no such page, never a database error.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
