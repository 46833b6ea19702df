"""Who may call the command API: the API key (stored as a salted HMAC) and the CRM users."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest, Forbidden, NotFound, Unauthorized
from app.core.security import tokens_equal
from app.crm.models import CrmSettings, CrmUser
from app.crm.naming import normalized
from app.crm.rights import COMMAND_RIGHTS, canonical_right, may_run

MIN_API_KEY_CHARS = 8


def _digest(salt: str, api_key: str) -> str:
    return hmac.new(salt.encode(), api_key.encode(), hashlib.sha256).hexdigest()


async def _settings_row(session: AsyncSession) -> CrmSettings:
    row = await session.scalar(select(CrmSettings).order_by(col(CrmSettings.id)).limit(1))
    if row is None:
        row = CrmSettings()
        session.add(row)
    return row


async def api_key_is_set(session: AsyncSession) -> bool:
    row = await session.scalar(select(CrmSettings).limit(1))
    return row is not None and row.api_key_hash is not None


async def set_api_key(session: AsyncSession, api_key: str | None) -> None:
    """Set (or, with None or "", clear) the API key; only its salted HMAC is kept."""
    row = await _settings_row(session)
    if not api_key:
        row.api_key_salt = row.api_key_hash = None
    else:
        if len(api_key) < MIN_API_KEY_CHARS:
            raise BadRequest(f"ApiKey must be at least {MIN_API_KEY_CHARS} characters long.")
        row.api_key_salt = secrets.token_hex(16)
        row.api_key_hash = _digest(row.api_key_salt, api_key)
    await session.flush()


async def authenticate(
    session: AsyncSession, api_key: str | None, user_name: str | None
) -> CrmUser:
    """The calling CRM user; 401 for a wrong or missing key or an unknown user."""
    row = await session.scalar(select(CrmSettings).limit(1))
    if row is None or row.api_key_hash is None or row.api_key_salt is None:
        raise Unauthorized("The CRM API key is not configured.")
    given = _digest(row.api_key_salt, api_key or "")
    if not api_key or not tokens_equal(given, row.api_key_hash):
        raise Unauthorized("Wrong or missing apiKey.")
    user = await find_user(session, user_name or "")
    if user is None:
        raise Unauthorized("Unknown or missing userName.")
    return user


def authorize(user: CrmUser, command: str) -> None:
    if not may_run(command, user.rights):
        raise Forbidden(
            f"User {user.user_name!r} lacks the right {COMMAND_RIGHTS[command]!r} "
            f"needed by {command!r}."
        )


def user_key(user_name: str) -> str:
    return normalized(user_name)[:255]


async def find_user(session: AsyncSession, user_name: str) -> CrmUser | None:
    if not user_name.strip():
        return None
    return await session.scalar(select(CrmUser).where(col(CrmUser.user_key) == user_key(user_name)))


async def list_users(session: AsyncSession) -> list[CrmUser]:
    return list((await session.scalars(select(CrmUser).order_by(col(CrmUser.user_key)))).all())


async def put_user(session: AsyncSession, user_name: str, rights: list[str]) -> CrmUser:
    """Create or replace a CRM user's rights; unknown right names are a 400."""
    if not user_name.strip() or len(user_name) > 255:
        raise BadRequest("UserName must be 1 to 255 characters.")
    canonical: list[str] = []
    for right in rights:
        name = canonical_right(str(right))
        if name is None:
            raise BadRequest(f"Rights: unknown right {right!r}.")
        if name not in canonical:
            canonical.append(name)
    user = await find_user(session, user_name)
    if user is None:
        user = CrmUser(user_name=user_name.strip(), user_key=user_key(user_name))
        session.add(user)
    user.rights = canonical
    await session.flush()
    return user


async def delete_user(session: AsyncSession, user_name: str) -> None:
    user = await find_user(session, user_name)
    if user is None:
        raise NotFound(f"No CRM user {user_name!r}.")
    await session.delete(user)
    await session.flush()
