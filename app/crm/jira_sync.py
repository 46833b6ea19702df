"""The `sync` command: Jira's users become (or update) contacts, matched by their Jira login;
deactivated users, apps' accounts and the service's own Jira user are skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import ApiError
from app.crm.models import CrmRecord
from app.crm.naming import normalized
from app.crm.params import Assignment
from app.crm.records import write
from app.crm.tables import CONTACTS, load_table
from app.integration.access import jira_client
from app.integration.models import JiraInstance
from app.integration.services import Services
from app.jira.errors import JiraError
from app.jira.schemas import JiraUser

PAGE_SIZE = 100
MAX_PAGES = 1000


class JiraUnreachable(ApiError):
    status_code = 502
    code = "JiraError"


class SkipReason(StrEnum):
    INACTIVE = "inactive"
    APP = "app account"
    INTEGRATION_USER = "the integration user"


@dataclass
class SyncCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_because: Counter[SkipReason] = field(default_factory=Counter)

    @property
    def skipped(self) -> int:
        return self.skipped_because.total()


@dataclass
class JiraUsers:
    """Jira's users, and the service's own (the instance's credentials) to leave out."""

    users: list[JiraUser]
    integration_user: JiraUser | None = None


def login_of(user: JiraUser) -> str | None:
    """The Jira login a contact keeps: Server's user name, else Cloud's account id."""
    return user.name or user.account_id or user.key


def skip_reason(user: JiraUser, integration_user: JiraUser | None) -> SkipReason | None:
    """Why a Jira user is no contact (pure): deactivated, an app's account (Cloud's
    `accountType: app`), or the account the service itself calls Jira with."""
    if not user.active:
        return SkipReason.INACTIVE
    if user.account_type == "app":
        return SkipReason.APP
    if integration_user is not None and login_of(user) == login_of(integration_user):
        return SkipReason.INTEGRATION_USER
    return None


def contact_values(user: JiraUser) -> dict[str, str]:
    """What a Jira user contributes to its contact (pure)."""
    login = login_of(user) or ""
    values = {"contact_name": (user.display_name or login).strip(), "contact_login": login}
    if user.email_address:
        values["contact_email"] = user.email_address.strip()
    return values


async def fetch_users(services: Services, instance: JiraInstance) -> JiraUsers:
    """Every user of Jira's user search, page by page, and the integration user (no database
    transaction is held)."""
    users: dict[str, JiraUser] = {}
    try:
        async with jira_client(services, instance) as client:
            integration_user = await client.myself_cached()
            for page_number in range(MAX_PAGES):
                page = await client.search_users(page_number * PAGE_SIZE, PAGE_SIZE)
                fresh = [u for u in page if login_of(u) and login_of(u) not in users]
                for user in fresh:
                    users[login_of(user) or ""] = user
                if not fresh or len(page) < PAGE_SIZE:
                    break
    except JiraError as exc:
        raise JiraUnreachable(f"Jira user search failed: {exc.message}") from exc
    return JiraUsers(list(users.values()), integration_user)


async def import_users(session: AsyncSession, jira: JiraUsers) -> SyncCounts:
    """Create a contact per new login, update the name or e-mail of known ones."""
    table = await load_table(session, CONTACTS)
    by_login: dict[str, CrmRecord] = {}
    for record in await session.scalars(
        select(CrmRecord).where(col(CrmRecord.table_id) == table.id).order_by(col(CrmRecord.id))
    ):
        login = record.search.get("contact_login")
        if isinstance(login, str):
            by_login.setdefault(login, record)
    counts = SyncCounts()
    for user in jira.users:
        if reason := skip_reason(user, jira.integration_user):
            counts.skipped_because[reason] += 1
            continue
        values = contact_values(user)
        existing = by_login.get(normalized(values["contact_login"]))
        changed = {
            code: text
            for code, text in values.items()
            if existing is None or str(existing.data.get(code, "")) != text
        }
        if existing is not None and not changed:
            counts.unchanged += 1
            continue
        assignments = {
            code: Assignment(spec, text, f"clients-{code}", view=False)
            for code, text in changed.items()
            if (spec := table.by_code(code)) is not None
        }
        record = await write(session, table, assignments, existing)
        if existing is None:
            counts.created += 1
            by_login[normalized(values["contact_login"])] = record
        else:
            counts.updated += 1
    return counts
