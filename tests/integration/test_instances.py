"""Jira instances and their mappings as a service: what is checked and normalised on the way in,
secrets kept encrypted, the Default instance kept, a deletion refused while something uses the
instance, an action type it pushes kept (app/integration/instances.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BadRequest, Conflict, NotFound
from app.core.security import SecretBox
from app.helpdesk.events import ActionTypeDeleteRequested, StillUsed
from app.helpdesk.models import ActionType, Product, Ticket
from app.integration.diagnostics import test_connection as check_connection
from app.integration.instances import (
    create_instance,
    create_mapping,
    default_instance,
    delete_instance,
    delete_mapping,
    get_instance,
    instance_answers,
    list_mappings,
    mapping_answer,
    refuse_deleting_a_pushed_action_type,
    update_instance,
    webhook_url,
)
from app.integration.models import JiraInstance, JiraIssue
from app.integration.schemas import JiraInstanceInput, MappingInput
from app.integration.services import Services
from app.jira.pool import JiraClientPool
from tests.conftest import SECRET_KEY
from tests.jira.test_pool import PoolSettings
from tests.support.world import Catalog, add_custom_field, make_catalog, make_tickets

SECRETS = SecretBox(SECRET_KEY)


async def create(session: AsyncSession, **given: Any) -> Any:
    return await create_instance(session, JiraInstanceInput(**given), SECRETS, allow_private=True)


async def update(session: AsyncSession, instance: Any, **given: Any) -> Any:
    return await update_instance(
        session, instance, JiraInstanceInput(**given), SECRETS, allow_private=False
    )


@pytest.fixture
async def catalog(session: AsyncSession) -> Catalog:
    return await make_catalog(session)


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("http://helpdesk.test", "http://helpdesk.test/webhooks/jira/3"),
        ("https://hd.example.com/base/", "https://hd.example.com/base/webhooks/jira/3"),
    ],
)
def test_webhook_url(public_url: str, expected: str) -> None:
    assert webhook_url(public_url, 3) == expected


class TestCreateAndUpdate:
    async def test_values_are_normalised_and_secrets_encrypted(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        session.add(ActionType(name="Comment"))
        await session.flush()
        instance = await create(
            session,
            name="Server",
            host_name=" http://jira.corp.local:8080/ ",
            default_project_key=" ops ",
            action_type_to_push="comment",
            api_token="pat",
            webhook_secret="hook-secret-0123456789",
            allowed_ticket_type_ids=[catalog.task, catalog.bug, catalog.task],
        )
        assert instance.host_name == "http://jira.corp.local:8080"
        assert instance.default_project_key == "OPS"
        assert instance.allowed_ticket_type_ids == sorted([catalog.bug, catalog.task])
        assert "pat" not in (instance.api_token_encrypted or "")
        assert SECRETS.decrypt(instance.api_token_encrypted or "") == "pat"
        assert SECRETS.decrypt(instance.webhook_secret_encrypted or "") == "hook-secret-0123456789"
        (answer,) = await instance_answers(session, [instance], "http://helpdesk.test")
        assert answer.action_type_to_push == "Comment"
        assert answer.webhook_url == f"http://helpdesk.test/webhooks/jira/{instance.id}"
        assert "api_token" not in answer.model_dump()

    @pytest.mark.parametrize("all_types", [None, "", "All Types"])
    async def test_all_types_pushes_every_action_type(
        self, session: AsyncSession, all_types: str | None
    ) -> None:
        session.add(ActionType(name="Comment"))
        await session.flush()
        instance = await create(session, name="B", action_type_to_push="Comment")
        await update(session, instance, action_type_to_push=all_types)
        assert instance.action_type_to_push_id is None

    async def test_empty_secrets_and_key_clear_them(self, session: AsyncSession) -> None:
        instance = await create(session, name="B", api_token="pat", default_project_key="OPS")
        await update(session, instance, api_token="", webhook_secret=None, default_project_key="")
        assert (instance.api_token_encrypted, instance.webhook_secret_encrypted) == (None, None)
        assert instance.default_project_key is None

    @pytest.mark.parametrize(
        ("given", "message"),
        [
            ({"name": None}, "Name cannot be empty."),
            (
                {"host_name": "http://169.254.169.254"},
                "HostName 169.254.169.254 is a link-local or cloud metadata address",
            ),
            ({"host_name": "http://localhost:8080"}, "HostName localhost is a loopback name"),
            ({"action_type_to_push": "Nope"}, "ActionTypeToPush 'Nope' is not an action type"),
            (
                {"allowed_ticket_type_ids": [998, 999]},
                "AllowedTicketTypeIDs: ticket types [998, 999] do not exist.",
            ),
        ],
    )
    async def test_refusals(
        self, session: AsyncSession, given: dict[str, Any], message: str
    ) -> None:
        instance = await create(session, name="B")
        with pytest.raises(BadRequest) as refused:
            await update(session, instance, **given)
        assert refused.value.message.startswith(message)
        assert instance.name == "B"

    async def test_a_new_instance_needs_a_name(self, session: AsyncSession) -> None:
        with pytest.raises(BadRequest, match="JiraInstance needs Name."):
            await create(session)

    async def test_names_are_unique_whatever_their_case(self, session: AsyncSession) -> None:
        with pytest.raises(Conflict, match="A JiraInstance named 'DEFAULT' already exists."):
            await create(session, name="DEFAULT")

    async def test_private_hosts_only_where_allowed(self, session: AsyncSession) -> None:
        instance = await create(session, name="B", host_name="http://localhost:8080")
        assert instance.host_name == "http://localhost:8080"


class TestTheDefaultInstance:
    async def test_it_exists_and_keeps_its_name(self, session: AsyncSession) -> None:
        default = await default_instance(session)
        assert default.name == "Default"
        with pytest.raises(Conflict, match="The Default Jira instance cannot be renamed."):
            await update(session, default, name="Other")
        await update(session, default, name="Default", user_name="svc")
        assert (default.name, default.user_name) == ("Default", "svc")

    async def test_it_cannot_be_deleted(self, session: AsyncSession) -> None:
        with pytest.raises(Conflict, match="The Default Jira instance cannot be deleted."):
            await delete_instance(session, await default_instance(session))

    async def test_a_missing_instance_is_named(self, session: AsyncSession) -> None:
        with pytest.raises(NotFound) as missing:
            await get_instance(session, 999)
        assert missing.value.message == "JiraInstance 999 does not exist."


class TestDeleteInstance:
    async def test_an_unused_one_goes(self, session: AsyncSession) -> None:
        instance = await create(session, name="B")
        await delete_instance(session, instance)
        with pytest.raises(NotFound):
            await get_instance(session, instance.id or 0)

    @pytest.mark.parametrize("user", ["tickets", "products", "linked issues"])
    async def test_a_used_one_is_refused_naming_the_users(
        self, session: AsyncSession, catalog: Catalog, user: str
    ) -> None:
        instance = await create(session, name="B")
        if user == "tickets":
            (ticket_id,) = await make_tickets(session, catalog, 1)
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            ticket.jira_instance_id = instance.id
        elif user == "products":
            session.add(Product(name="P", jira_instance_id=instance.id))
        else:
            session.add(JiraIssue(instance_id=instance.id or 0, issue_id="1", issue_key="B-1"))
        await session.flush()
        with pytest.raises(Conflict) as refused:
            await delete_instance(session, instance)
        assert refused.value.message == f"JiraInstance 'B' is still used by 1 {user}."


class TestPushedActionType:
    async def test_an_action_type_an_instance_pushes_is_still_used(
        self, session: AsyncSession
    ) -> None:
        comment, note = ActionType(name="Comment"), ActionType(name="Note")
        session.add_all([comment, note])
        await session.flush()
        await update(session, await default_instance(session), action_type_to_push="Comment")
        with pytest.raises(StillUsed) as used:
            await refuse_deleting_a_pushed_action_type(
                session, ActionTypeDeleteRequested(comment.id or 0)
            )
        assert used.value.reason == "a Jira instance pushes this action type"
        await refuse_deleting_a_pushed_action_type(session, ActionTypeDeleteRequested(note.id or 0))


class TestMappings:
    async def test_helpdesk_fields_are_stored_as_spelled_in_the_helpdesk(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        await add_custom_field(session, "Story Points", "Number")
        default = await default_instance(session)
        made = [
            await create_mapping(session, default, MappingInput(**given))
            for given in (
                {"mapping_type": "TicketType", "jira_field": "Story", "team_support_field": "task"},
                {
                    "mapping_type": "Ticket",
                    "jira_field": "Points",
                    "team_support_field": "story points",
                },
                {"mapping_type": "Ticket", "jira_field": "summary", "team_support_field": "NAME"},
            )
        ]
        assert [m.teamsupport_field for m in made] == ["Task", "Story Points", "Name"]
        assert await list_mappings(session, default.id or 0) == made
        assert mapping_answer(made[0]).model_dump(by_alias=True) == {
            "ID": made[0].id,
            "MappingType": "TicketType",
            "JiraField": "Story",
            "TeamSupportField": "Task",
        }

    @pytest.mark.parametrize(
        ("given", "message"),
        [
            ({"mapping_type": "Ticket", "jira_field": "x"}, "Mapping needs MappingType"),
            (
                {"mapping_type": "TicketType", "jira_field": "Bug", "team_support_field": "Nope"},
                "TeamSupportField 'Nope' is not a ticket type.",
            ),
            (
                {"mapping_type": "Ticket", "jira_field": "x", "team_support_field": "Nope"},
                "TeamSupportField 'Nope' is neither a custom field nor one of TicketNumber, Name, "
                "Description, ProductName, ReportedVersion.",
            ),
        ],
    )
    async def test_refusals(
        self, session: AsyncSession, catalog: Catalog, given: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(BadRequest) as refused:
            await create_mapping(session, await default_instance(session), MappingInput(**given))
        assert refused.value.message.startswith(message)

    async def test_a_jira_field_is_mapped_once_per_instance_and_type(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        default = await default_instance(session)
        other = await create(session, name="B")
        given = {"mapping_type": "Ticket", "jira_field": "Summary", "team_support_field": "Name"}
        await create_mapping(session, default, MappingInput(**given))
        await create_mapping(session, other, MappingInput(**given))
        with pytest.raises(Conflict, match="Jira field 'summary' is already mapped"):
            await create_mapping(
                session, default, MappingInput(**{**given, "jira_field": "summary"})
            )

    async def test_a_mapping_is_deleted_only_through_its_instance(
        self, session: AsyncSession, catalog: Catalog
    ) -> None:
        default = await default_instance(session)
        mapping = await create_mapping(
            session,
            default,
            MappingInput(mapping_type="Ticket", jira_field="summary", team_support_field="Name"),
        )
        with pytest.raises(
            NotFound, match=f"Mapping {mapping.id} does not exist on JiraInstance 99"
        ):
            await delete_mapping(session, 99, mapping.id or 0)
        await delete_mapping(session, default.id or 0, mapping.id or 0)
        assert await list_mappings(session, default.id or 0) == []


BOX = SecretBox(SECRET_KEY)
OLD_HOST = "https://jira-old.example.com"
NEW_HOST = "https://jira-new.example.com"


async def configured(session: Any) -> JiraInstance:
    """The Default instance with a host, a user and a stored token."""
    instance = await default_instance(session)
    data = JiraInstanceInput.model_validate(
        {"HostName": OLD_HOST, "UserName": "svc@example.com", "ApiToken": "the-token"}
    )
    return await update_instance(session, instance, data, BOX, allow_private=True)


async def update_with(session: Any, instance: JiraInstance, body: dict[str, Any]) -> JiraInstance:
    data = JiraInstanceInput.model_validate(body)
    return await update_instance(session, instance, data, BOX, allow_private=True)


class TestTheStoredTokenStaysWithItsHost:
    @pytest.mark.parametrize(
        ("body", "named"),
        [
            ({"HostName": NEW_HOST}, "HostName"),
            ({"UserName": "someone-else@example.com"}, "UserName"),
            ({"AuthMethod": "Bearer"}, "AuthMethod"),
            ({"HostName": NEW_HOST, "UserName": "x"}, "HostName and UserName"),
        ],
    )
    async def test_changing_where_it_goes_without_the_token_is_refused(
        self, session: Any, body: dict[str, Any], named: str
    ) -> None:
        instance = await configured(session)
        stored = instance.api_token_encrypted
        with pytest.raises(BadRequest) as refused:
            await update_with(session, instance, body)
        assert refused.value.message.startswith(f"Changing {named} needs ApiToken again")
        assert instance.host_name == OLD_HOST
        assert instance.user_name == "svc@example.com"
        assert instance.auth_method == "Basic"
        assert instance.api_token_encrypted == stored

    async def test_the_same_host_spelled_again_needs_no_token(self, session: Any) -> None:
        instance = await configured(session)
        await update_with(
            session, instance, {"HostName": f"{OLD_HOST}/", "UserName": "svc@example.com"}
        )
        assert instance.host_name == OLD_HOST
        assert BOX.decrypt(instance.api_token_encrypted or "") == "the-token"

    async def test_a_new_host_with_a_new_token_takes_both(self, session: Any) -> None:
        instance = await configured(session)
        await update_with(session, instance, {"HostName": NEW_HOST, "ApiToken": "new-token"})
        assert instance.host_name == NEW_HOST
        assert BOX.decrypt(instance.api_token_encrypted or "") == "new-token"

    async def test_a_new_host_with_a_null_token_clears_it_and_test_sends_no_authorization(
        self, session: Any
    ) -> None:
        instance = await configured(session)
        await update_with(session, instance, {"HostName": NEW_HOST, "ApiToken": None})
        assert instance.host_name == NEW_HOST
        assert instance.api_token_encrypted is None
        sent: list[httpx.Request] = []

        def jira(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return httpx.Response(200, json={})

        pool = JiraClientPool.from_settings(PoolSettings(), transport=httpx.MockTransport(jira))
        services = Services(jira=pool, secrets=BOX)
        answer = await check_connection(
            services, instance, timeout=5, public_url="http://helpdesk.test"
        )
        await pool.aclose()
        assert answer.success is False
        assert "no ApiToken" in answer.message
        assert [request for request in sent if "authorization" in request.headers] == []

    async def test_no_stored_token_means_nothing_to_protect(self, session: Any) -> None:
        instance = await default_instance(session)
        await update_with(
            session, instance, {"HostName": NEW_HOST, "UserName": "a", "AuthMethod": "Bearer"}
        )
        assert instance.host_name == NEW_HOST
        assert instance.auth_method == "Bearer"
