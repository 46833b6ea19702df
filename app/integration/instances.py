"""Jira instances and their field mappings: validation, secrets at rest, answers.

`Default` always exists (seeded by the first migration); it can be configured, not renamed or
deleted. ApiToken and WebhookSecret are stored encrypted and never returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadReference, BadRequest, Conflict, NotFound
from app.core.security import SecretBox
from app.helpdesk.events import ActionTypeDeleteRequested, StillUsed
from app.helpdesk.models import ActionType, CustomField, Product, Ticket, TicketType
from app.integration.models import (
    DEFAULT_INSTANCE_NAME,
    JiraInstance,
    JiraIssue,
    JiraMapping,
    MappingType,
)
from app.integration.schemas import (
    WEBHOOK_SECRET_MIN_LENGTH,
    JiraInstanceInput,
    JiraInstanceOut,
    MappingInput,
    MappingOut,
)
from app.jira.auth import AuthMethod
from app.jira.hosts import HostNameError, check_host_name

ALL_TYPES = "all types"
# Anything shorter could be guessed by whoever can send deliveries (docs/jira-webhooks.md).
# Ticket elements a `Ticket` mapping may name besides custom fields.
TICKET_MAPPING_FIELDS = ("TicketNumber", "Name", "Description", "ProductName", "ReportedVersion")


def webhook_url(public_url: str, instance_id: int) -> str:
    return f"{public_url.rstrip('/')}/webhooks/jira/{instance_id}"


def instance_not_found(instance_id: int) -> NotFound:
    """The one wording of a missing instance, wherever it is found missing."""
    return NotFound(f"JiraInstance {instance_id} does not exist.")


async def get_instance(session: AsyncSession, instance_id: int) -> JiraInstance:
    instance = await session.get(JiraInstance, instance_id)
    if instance is None:
        raise instance_not_found(instance_id)
    return instance


async def default_instance(session: AsyncSession) -> JiraInstance:
    instance = await session.scalar(
        select(JiraInstance).where(col(JiraInstance.name) == DEFAULT_INSTANCE_NAME)
    )
    assert instance is not None, "the Default instance is created by the first migration"
    return instance


async def refuse_deleting_a_pushed_action_type(
    session: AsyncSession, event: ActionTypeDeleteRequested
) -> None:
    pushing = await session.scalar(
        select(func.count()).where(col(JiraInstance.action_type_to_push_id) == event.action_type_id)
    )
    if pushing:
        raise StillUsed("a Jira instance pushes this action type")


async def list_instances(session: AsyncSession) -> Sequence[JiraInstance]:
    return (await session.scalars(select(JiraInstance).order_by(col(JiraInstance.id)))).all()


async def create_instance(
    session: AsyncSession, data: JiraInstanceInput, secrets: SecretBox, *, allow_private: bool
) -> JiraInstance:
    if not data.name:
        raise BadRequest("JiraInstance needs Name.")
    instance = JiraInstance(name=data.name)
    await _apply(session, instance, data, secrets, allow_private=allow_private)
    return instance


async def update_instance(
    session: AsyncSession,
    instance: JiraInstance,
    data: JiraInstanceInput,
    secrets: SecretBox,
    *,
    allow_private: bool,
) -> JiraInstance:
    if (
        "name" in data.model_fields_set
        and instance.name == DEFAULT_INSTANCE_NAME
        and data.name != DEFAULT_INSTANCE_NAME
    ):
        raise Conflict("The Default Jira instance cannot be renamed.")
    await _apply(session, instance, data, secrets, allow_private=allow_private)
    return instance


async def delete_instance(session: AsyncSession, instance: JiraInstance) -> None:
    if instance.name == DEFAULT_INSTANCE_NAME:
        raise Conflict("The Default Jira instance cannot be deleted.")
    users = (
        (col(Ticket.jira_instance_id), "tickets"),
        (col(Product.jira_instance_id), "products"),
        (col(JiraIssue.instance_id), "linked issues"),
    )
    for column, label in users:
        used = await session.scalar(select(func.count()).where(column == instance.id))
        if used:
            raise Conflict(f"JiraInstance {instance.name!r} is still used by {used} {label}.")
    await session.delete(instance)
    await session.flush()


async def _apply(
    session: AsyncSession,
    instance: JiraInstance,
    data: JiraInstanceInput,
    secrets: SecretBox,
    *,
    allow_private: bool,
) -> None:
    given = data.model_fields_set
    if "name" in given:
        if not data.name:
            raise BadRequest("Name cannot be empty.")
        same_name = select(JiraInstance).where(func.lower(JiraInstance.name) == data.name.lower())
        if instance.id is not None:
            same_name = same_name.where(col(JiraInstance.id) != instance.id)
        clash = await session.scalar(same_name)
        if clash is not None:
            raise Conflict(f"A JiraInstance named {data.name!r} already exists.")
        instance.name = data.name
    host_name = instance.host_name
    if "host_name" in given:
        host = (data.host_name or "").strip()
        try:
            host_name = check_host_name(host, allow_private=allow_private) if host else ""
        except HostNameError as exc:
            raise BadRequest(str(exc), code="HostNameRefused") from None
    user_name = (data.user_name or "") if "user_name" in given else instance.user_name
    auth_method = (data.auth_method or AuthMethod.BASIC) if "auth_method" in given else None
    if "api_token" not in given and instance.api_token_encrypted:
        _refuse_moving_the_stored_token(
            instance, host_name=host_name, user_name=user_name, auth_method=auth_method
        )
    instance.host_name = host_name
    instance.user_name = user_name
    if auth_method is not None:
        instance.auth_method = auth_method
    if "api_token" in given:
        instance.api_token_encrypted = secrets.encrypt(data.api_token) if data.api_token else None
    if "webhook_secret" in given:
        if data.webhook_secret and len(data.webhook_secret) < WEBHOOK_SECRET_MIN_LENGTH:
            raise BadRequest(
                f"WebhookSecret must be at least {WEBHOOK_SECRET_MIN_LENGTH} characters long "
                f"(it has {len(data.webhook_secret)}): use a long random string, such as "
                "the output of `openssl rand -hex 32`. null clears it."
            )
        instance.webhook_secret_encrypted = (
            secrets.encrypt(data.webhook_secret) if data.webhook_secret else None
        )
    if "default_project_key" in given:
        instance.default_project_key = (data.default_project_key or "").strip().upper() or None
    if "crm_property_field" in given:
        instance.crm_property_field = (data.crm_property_field or "").strip() or None
    if "action_type_to_push" in given:
        instance.action_type_to_push_id = await _action_type_id(session, data.action_type_to_push)
    for flag in (
        "update_ticket_status",
        "sync_active",
        "always_use_default_project_key",
        "include_non_required_fields",
        "use_all_ticket_types",
    ):
        if flag in given:
            setattr(instance, flag, getattr(data, flag))
    if "allowed_ticket_type_ids" in given:
        ids = sorted(set(data.allowed_ticket_type_ids or []))
        if ids:
            found = set(
                (
                    await session.scalars(
                        select(col(TicketType.id)).where(col(TicketType.id).in_(ids))
                    )
                ).all()
            )
            missing = [ident for ident in ids if ident not in found]
            if missing:
                raise BadReference(f"AllowedTicketTypeIDs: ticket types {missing} do not exist.")
        instance.allowed_ticket_type_ids = ids
    session.add(instance)
    await session.flush()


def _refuse_moving_the_stored_token(
    instance: JiraInstance, *, host_name: str, user_name: str, auth_method: AuthMethod | None
) -> None:
    """The stored ApiToken is only ever sent to the host, user and scheme it was given for."""
    changed = [
        element
        for element, differs in (
            ("HostName", host_name != instance.host_name),
            ("UserName", user_name != instance.user_name),
            ("AuthMethod", auth_method is not None and auth_method != instance.auth_method),
        )
        if differs
    ]
    if changed:
        raise BadRequest(
            f"Changing {' and '.join(changed)} needs ApiToken again: the stored one is only "
            "ever sent to the host and user it was given for. Send ApiToken with the change "
            "(or ApiToken null to clear it)."
        )


async def _action_type_id(session: AsyncSession, name: str | None) -> int | None:
    if name is None or not name.strip() or name.strip().lower() == ALL_TYPES:
        return None
    found = await session.scalar(
        select(ActionType).where(func.lower(ActionType.name) == name.strip().lower())
    )
    if found is None:
        raise BadReference(f"ActionTypeToPush {name!r} is not an action type (or null for all).")
    return found.id


async def instance_answers(
    session: AsyncSession, instances: Sequence[JiraInstance], public_url: str
) -> list[JiraInstanceOut]:
    type_ids = {i.action_type_to_push_id for i in instances if i.action_type_to_push_id}
    names: dict[int, str] = {}
    if type_ids:
        rows = await session.execute(
            select(col(ActionType.id), col(ActionType.name)).where(col(ActionType.id).in_(type_ids))
        )
        names = {row.id: row.name for row in rows}
    return [
        JiraInstanceOut(
            id=instance.id or 0,
            name=instance.name,
            host_name=instance.host_name,
            user_name=instance.user_name,
            auth_method=instance.auth_method,
            default_project_key=instance.default_project_key,
            action_type_to_push=names.get(instance.action_type_to_push_id or 0),
            update_ticket_status=instance.update_ticket_status,
            sync_active=instance.sync_active,
            always_use_default_project_key=instance.always_use_default_project_key,
            include_non_required_fields=instance.include_non_required_fields,
            use_all_ticket_types=instance.use_all_ticket_types,
            allowed_ticket_type_ids=list(instance.allowed_ticket_type_ids),
            webhook_url=webhook_url(public_url, instance.id or 0),
            crm_property_field=instance.crm_property_field,
        )
        for instance in instances
    ]


# -- mappings ------------------------------------------------------------------------------------


async def list_mappings(session: AsyncSession, instance_id: int) -> Sequence[JiraMapping]:
    query = (
        select(JiraMapping)
        .where(col(JiraMapping.instance_id) == instance_id)
        .order_by(col(JiraMapping.id))
    )
    return (await session.scalars(query)).all()


async def create_mapping(
    session: AsyncSession, instance: JiraInstance, data: MappingInput
) -> JiraMapping:
    if data.mapping_type is None or not data.jira_field or not data.team_support_field:
        raise BadRequest("Mapping needs MappingType, JiraField and TeamSupportField.")
    helpdesk_field = await _helpdesk_field(session, data.mapping_type, data.team_support_field)
    clash = await session.scalar(
        select(JiraMapping).where(
            col(JiraMapping.instance_id) == instance.id,
            col(JiraMapping.mapping_type) == data.mapping_type,
            func.lower(JiraMapping.jira_field) == data.jira_field.lower(),
        )
    )
    if clash is not None:
        raise Conflict(f"Jira field {data.jira_field!r} is already mapped on this instance.")
    mapping = JiraMapping(
        instance_id=instance.id or 0,
        mapping_type=data.mapping_type,
        jira_field=data.jira_field,
        teamsupport_field=helpdesk_field,
    )
    session.add(mapping)
    await session.flush()
    return mapping


async def _helpdesk_field(session: AsyncSession, mapping_type: MappingType, name: str) -> str:
    """The helpdesk field or ticket type a mapping names, spelled as it is stored."""
    if mapping_type is MappingType.TICKET_TYPE:
        found_type = await session.scalar(
            select(TicketType).where(func.lower(TicketType.name) == name.lower())
        )
        if found_type is None:
            raise BadReference(f"TeamSupportField {name!r} is not a ticket type.")
        return found_type.name
    for builtin in TICKET_MAPPING_FIELDS:
        if builtin.lower() == name.lower():
            return builtin
    custom = await session.scalar(
        select(CustomField).where(func.lower(CustomField.name) == name.lower())
    )
    if custom is None:
        raise BadReference(
            f"TeamSupportField {name!r} is neither a custom field nor one of "
            f"{', '.join(TICKET_MAPPING_FIELDS)}."
        )
    return custom.name


async def delete_mapping(session: AsyncSession, instance_id: int, mapping_id: int) -> None:
    mapping = await session.get(JiraMapping, mapping_id)
    if mapping is None or mapping.instance_id != instance_id:
        raise NotFound(f"Mapping {mapping_id} does not exist on JiraInstance {instance_id}.")
    await session.delete(mapping)
    await session.flush()


def mapping_answer(mapping: JiraMapping) -> MappingOut:
    return MappingOut(
        id=mapping.id or 0,
        mapping_type=mapping.mapping_type,
        jira_field=mapping.jira_field,
        team_support_field=mapping.teamsupport_field,
    )
