"""A test's world, in one vocabulary: ticket types with statuses, products, a Jira instance that
talks to the simulator, tickets, and tickets linked to an issue.

Two ways in, for two kinds of test:
- through a database session (`add_ticket_type`, `make_catalog`, `make_instance`,
  `make_tickets`, `link`, `linked_world` for all of them at once, and `new_ticket` through the
  helpdesk service): service, job and receiver tests, where a link is what the outbound feature
  would have stored;
- through the API (`seed_helpdesk`, `configure_default_instance`, `ready_helpdesk`,
  `add_product`, `add_version`, `add_mapping_through_api`, `linked_ticket`): tests of a running
  app, in process or as a separate process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.security import SecretBox
from app.helpdesk.models import CustomField, Product, Ticket, TicketStatus, TicketType
from app.helpdesk.schemas import TicketInput
from app.helpdesk.tickets import create_ticket as create_ticket_service
from app.integration.models import JiraInstance, JiraIssue, JiraMapping
from tests.conftest import SECRET_KEY, SIM_BASE_URL, SIM_TOKEN, SIM_USER
from tests.support.api import HelpdeskApi
from tests.support.helpdesk import API, create_ticket, ok
from tests.support.jobs import drain

WEBHOOK_SECRET = "jira-webhook-secret-0123"
# The issue a `linked_world` links to, unless told otherwise.
ISSUE_ID = "10040"
ISSUE_KEY = "DEMO-1"


# -- through a session ----------------------------------------------------------------------------


@dataclass
class Catalog:
    bug: int
    task: int
    statuses: dict[tuple[int, str], int]  # (type id, name) -> status id
    demo_product: int
    support_product: int


async def add_ticket_type(
    session: AsyncSession, name: str, statuses: Sequence[str]
) -> tuple[int, dict[str, int]]:
    """A ticket type and its statuses, the first one the default: (type id, status ids)."""
    ticket_type = TicketType(name=name)
    session.add(ticket_type)
    await session.flush()
    made = [
        TicketStatus(name=status, ticket_type_id=ticket_type.id or 0, is_default=n == 0)
        for n, status in enumerate(statuses)
    ]
    session.add_all(made)
    await session.flush()
    return ticket_type.id or 0, {status.name: status.id or 0 for status in made}


async def make_catalog(session: AsyncSession) -> Catalog:
    """Bug (Open, In Progress, Done) and Task (New, Done); products Demo Project (Jira project
    DEMO) and Support (no key)."""
    bug, bug_statuses = await add_ticket_type(session, "Bug", ["Open", "In Progress", "Done"])
    task, task_statuses = await add_ticket_type(session, "Task", ["New", "Done"])
    statuses = {(bug, name): ident for name, ident in bug_statuses.items()}
    statuses |= {(task, name): ident for name, ident in task_statuses.items()}
    demo = Product(name="Demo Project", jira_project_key="DEMO")
    support = Product(name="Support")
    session.add_all([demo, support])
    await session.flush()
    return Catalog(bug, task, statuses, demo.id or 0, support.id or 0)


async def make_instance(
    session: AsyncSession,
    *,
    name: str = "Default",
    update_ticket_status: bool = True,
    sync_active: bool = True,
    webhook_secret: str | None = WEBHOOK_SECRET,
    user_name: str = SIM_USER,
    api_token: str = SIM_TOKEN,
) -> JiraInstance:
    """Configure the seeded `Default` instance (or add another) to talk to the simulator."""
    box = SecretBox(SECRET_KEY)
    instance = await session.scalar(select(JiraInstance).where(col(JiraInstance.name) == name))
    if instance is None:
        instance = JiraInstance(name=name)
    instance.host_name = SIM_BASE_URL
    instance.user_name = user_name
    instance.api_token_encrypted = box.encrypt(api_token)
    instance.webhook_secret_encrypted = box.encrypt(webhook_secret) if webhook_secret else None
    instance.update_ticket_status = update_ticket_status
    instance.sync_active = sync_active
    session.add(instance)
    await session.flush()
    return instance


async def make_tickets(
    session: AsyncSession, catalog: Catalog, count: int, *, type_id: int | None = None
) -> list[int]:
    """Tickets (of type Bug unless told, product Support) inserted in one statement: fan-out
    tests need many."""
    type_id = type_id or catalog.bug
    default = next(sid for (tid, _), sid in catalog.statuses.items() if tid == type_id)
    start = int(
        await session.scalar(
            select(Ticket.ticket_number).order_by(col(Ticket.ticket_number).desc())
        )
        or 0
    )  # type: ignore[call-overload]
    rows = [
        {
            "ticket_number": start + n + 1,
            "name": f"ticket {start + n + 1}",
            "description": "",
            "ticket_type_id": type_id,
            "status_id": default,
            "product_id": catalog.support_product,
            "jira_sync_status": "None",
        }
        for n in range(count)
    ]
    await session.execute(insert(Ticket), rows)
    ids = await session.scalars(
        select(col(Ticket.id)).where(col(Ticket.ticket_number) > start).order_by(col(Ticket.id))
    )
    return list(ids)


async def link(
    session: AsyncSession,
    instance: JiraInstance,
    issue_id: str,
    key: str,
    ticket_ids: Sequence[int],
    *,
    status_name: str | None = "To Do",
    issue_type_name: str | None = "Task",
) -> JiraIssue:
    """What the outbound feature stores when tickets are linked to an issue."""
    issue = JiraIssue(
        instance_id=instance.id or 0,
        issue_id=issue_id,
        issue_key=key,
        status_name=status_name,
        issue_type_name=issue_type_name,
    )
    session.add(issue)
    await session.flush()
    for ticket_id in ticket_ids:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.jira_issue_ref = issue.id
        ticket.jira_instance_id = instance.id
        ticket.jira_sync_status = "Linked"
        session.add(ticket)
    await session.flush()
    return issue


async def new_ticket(
    session: AsyncSession,
    custom: dict[int, Any] | None = None,
    actor: str = "ann",
    **elements: Any,
) -> Ticket:
    """A ticket made by the helpdesk service (number, History, events): a Bug named "Printer on
    fire" unless `elements` (TicketInput fields) say otherwise; `custom` by field id."""
    data = TicketInput(**{"name": "Printer on fire", "ticket_type_name": "Bug", **elements})
    return await create_ticket_service(session, data, custom or {}, actor)


@dataclass
class LinkedWorld:
    catalog: Catalog
    instance: JiraInstance  # for `link`; its attributes expire with `session.expire_all()`
    instance_id: int
    tickets: list[int] = field(default_factory=list)


async def linked_world(
    session: AsyncSession,
    count: int = 2,
    *,
    task_tickets: int = 0,
    issue_id: str = ISSUE_ID,
    issue_key: str = ISSUE_KEY,
    linked: bool = True,
    **instance: Any,
) -> LinkedWorld:
    """The catalogue, the instance (`make_instance` settings), `count` Bug tickets and
    `task_tickets` Task ones, linked to one issue (unless `linked=False`); committed."""
    catalog = await make_catalog(session)
    jira = await make_instance(session, **instance)
    tickets = await make_tickets(session, catalog, count)
    if task_tickets:
        tickets += await make_tickets(session, catalog, task_tickets, type_id=catalog.task)
    if linked:
        await link(session, jira, issue_id, issue_key, tickets)
    await session.commit()
    return LinkedWorld(catalog, jira, jira.id or 0, tickets)


async def add_mapping(
    session: AsyncSession, instance: JiraInstance, kind: str, jira: str, ours: str
) -> None:
    session.add(
        JiraMapping(
            instance_id=instance.id or 0, mapping_type=kind, jira_field=jira, teamsupport_field=ours
        )
    )
    await session.flush()


async def add_custom_field(
    session: AsyncSession, name: str, field_type: str, pick_list: Sequence[str] = ()
) -> int:
    custom = CustomField(name=name, field_type=field_type, pick_list_values=list(pick_list))
    session.add(custom)
    await session.flush()
    return custom.id or 0


# -- through the API ------------------------------------------------------------------------------


@dataclass
class Helpdesk:
    types: dict[str, int] = field(default_factory=dict)
    action_types: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)


async def seed_helpdesk(client: httpx.AsyncClient) -> Helpdesk:
    """Ticket types Task and Bug (status New, the default), action types Comment and Note."""
    api = HelpdeskApi(client, "json")
    helpdesk = Helpdesk()
    for name in ("Task", "Bug"):
        ticket_type, _ = await api.setup_ticket_type(name, statuses=("New",))
        helpdesk.types[name] = ticket_type["ID"]
    for name in ("Comment", "Note"):
        action_type = await api.create("/ActionTypes", "ActionType", {"Name": name})
        helpdesk.action_types[name] = action_type["ID"]
    return helpdesk


async def configure_default_instance(
    client: httpx.AsyncClient,
    host: str = SIM_BASE_URL,
    user: str = SIM_USER,
    token: str = SIM_TOKEN,
    **settings: Any,
) -> dict[str, Any]:
    """The Default instance, active, creating issues in DEMO unless `settings` say otherwise."""
    body = {
        "HostName": host,
        "UserName": user,
        "ApiToken": token,
        "SyncActive": True,
        "DefaultProjectKey": "DEMO",
        **settings,
    }
    answer = await ok(await client.put(f"{API}/JiraInstances/1", json=body))
    return dict(answer["JiraInstance"])


async def ready_helpdesk(
    client: httpx.AsyncClient, jira_url: str = SIM_BASE_URL, **settings: Any
) -> Helpdesk:
    """`seed_helpdesk`, and the Default instance configured for the Jira at `jira_url`."""
    helpdesk = await seed_helpdesk(client)
    await configure_default_instance(client, jira_url, **settings)
    return helpdesk


async def add_product(
    client: httpx.AsyncClient, helpdesk: Helpdesk, name: str, key: str | None = None
) -> int:
    created = await ok(
        await client.post(f"{API}/Products", json={"Name": name, "JiraProjectKey": key}), 201
    )
    helpdesk.products[name] = created["Product"]["ID"]
    return int(created["Product"]["ID"])


async def add_version(
    client: httpx.AsyncClient, product_id: int, number: str, key: str | None = None
) -> int:
    created = await ok(
        await client.post(
            f"{API}/Products/{product_id}/Versions",
            json={"VersionNumber": number, "JiraProjectKey": key},
        ),
        201,
    )
    return int(created["Version"]["ID"])


async def add_mapping_through_api(
    client: httpx.AsyncClient, kind: str, jira: str, ours: str, instance_id: int = 1
) -> dict[str, Any]:
    body = {"MappingType": kind, "JiraField": jira, "TeamSupportField": ours}
    answer = await ok(
        await client.post(f"{API}/JiraInstances/{instance_id}/Mappings", json=body), 201
    )
    return dict(answer["Mapping"])


@dataclass
class LinkedTicket:
    ticket: dict[str, Any]
    issue_key: str


async def linked_ticket(
    app: Any, client: httpx.AsyncClient, sim: Any, project: str = "DEMO"
) -> LinkedTicket:
    """On a `ready_helpdesk`: an issue in DEMO (Jira Software; SUP is Service Management) and a
    ticket linked to it (the link job run)."""
    issue = sim.create_issue(project, "Existing problem")
    ticket = await create_ticket(client, JiraKey=issue.key)
    await drain(app)
    return LinkedTicket(ticket, issue.key)
