"""Routers for the Jira integration admin: JiraInstances, their Mappings, Test and
RegisterWebhook."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.api.bodies import documented_body, read_model
from app.api.deps import FormatDep, IdPath, ServicesDep, SessionDep, SettingsDep
from app.api.formats import Format
from app.api.responses import formatted
from app.core.errors import BadRequest
from app.core.settings import Settings
from app.integration import instances
from app.integration.diagnostics import test_connection
from app.integration.models import JiraInstance
from app.integration.schemas import (
    JIRA_INSTANCE_READ_ONLY,
    ConnectionTestOut,
    JiraInstanceInput,
    JiraInstanceOut,
    MappingInput,
    MappingOut,
    WebhookRegistrationOut,
)
from app.integration.webhook_registration import register_webhook

router = APIRouter(tags=["JiraInstances"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad input"},
    404: {"description": "Not found"},
    409: {"description": "Conflict"},
}


async def _one(
    session: SessionDep, instance: JiraInstance, settings: Settings, fmt: Format, status: int = 200
) -> Response:
    (answer,) = await instances.instance_answers(session, [instance], settings.public_url)
    return formatted({"JiraInstance": answer.model_dump(by_alias=True)}, fmt, status)


@router.get("/JiraInstances", response_model=dict[str, list[JiraInstanceOut]])
async def list_jira_instances(
    session: SessionDep, settings: SettingsDep, fmt: FormatDep
) -> Response:
    rows = await instances.instance_answers(
        session, await instances.list_instances(session), settings.public_url
    )
    return formatted({"JiraInstances": [row.model_dump(by_alias=True) for row in rows]}, fmt)


@router.post(
    "/JiraInstances",
    status_code=201,
    response_model=dict[str, JiraInstanceOut],
    responses=ERRORS,
    openapi_extra=documented_body(JiraInstanceInput, "JiraInstance", required=("Name",)),
)
async def create_jira_instance(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    fmt: FormatDep,
) -> Response:
    data = await read_model(
        request, fmt, JiraInstanceInput, "JiraInstance", JIRA_INSTANCE_READ_ONLY
    )
    instance = await instances.create_instance(
        session, data, services.secrets, allow_private=settings.allow_private_jira_hosts
    )
    return await _one(session, instance, settings, fmt, 201)


@router.get("/JiraInstances/{ID}", response_model=dict[str, JiraInstanceOut], responses=ERRORS)
async def get_jira_instance(
    ID: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    fmt: FormatDep,
) -> Response:
    return await _one(session, await instances.get_instance(session, ID), settings, fmt)


@router.put(
    "/JiraInstances/{ID}",
    response_model=dict[str, JiraInstanceOut],
    responses=ERRORS,
    openapi_extra=documented_body(JiraInstanceInput, "JiraInstance", min_elements=1),
)
async def update_jira_instance(
    ID: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    fmt: FormatDep,
) -> Response:
    instance = await instances.get_instance(session, ID)
    data = await read_model(
        request, fmt, JiraInstanceInput, "JiraInstance", JIRA_INSTANCE_READ_ONLY
    )
    if not data.model_fields_set:
        raise BadRequest("Send at least one JiraInstance element to change.")
    await instances.update_instance(
        session, instance, data, services.secrets, allow_private=settings.allow_private_jira_hosts
    )
    return await _one(session, instance, settings, fmt)


@router.delete("/JiraInstances/{ID}", status_code=204, responses=ERRORS)
async def delete_jira_instance(ID: IdPath, session: SessionDep, services: ServicesDep) -> Response:
    await instances.delete_instance(session, await instances.get_instance(session, ID))
    await services.jira.discard(ID)
    return Response(status_code=204)


@router.post(
    "/JiraInstances/{ID}/Test", response_model=dict[str, ConnectionTestOut], responses=ERRORS
)
async def test_jira_instance(
    ID: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    fmt: FormatDep,
) -> Response:
    instance = await instances.get_instance(session, ID)
    result = await test_connection(
        services,
        instance,
        timeout=settings.jira_test_timeout_seconds,
        public_url=settings.public_url,
    )
    return formatted({"Test": result.model_dump(by_alias=True)}, fmt)


@router.post(
    "/JiraInstances/{ID}/RegisterWebhook",
    response_model=dict[str, WebhookRegistrationOut],
    responses=ERRORS,
    summary="Create (or update) the one Jira webhook that calls this instance's WebhookURL",
)
async def register_jira_webhook(
    ID: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    fmt: FormatDep,
) -> Response:
    instance = await instances.get_instance(session, ID)
    result = await register_webhook(
        services, instance, settings.public_url, timeout=settings.jira_test_timeout_seconds
    )
    return formatted({"RegisterWebhook": result.model_dump(by_alias=True)}, fmt)


@router.get(
    "/JiraInstances/{ID}/Mappings", response_model=dict[str, list[MappingOut]], responses=ERRORS
)
async def list_jira_mappings(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    await instances.get_instance(session, ID)
    rows = [instances.mapping_answer(m) for m in await instances.list_mappings(session, ID)]
    return formatted({"Mappings": [row.model_dump(by_alias=True) for row in rows]}, fmt)


@router.post(
    "/JiraInstances/{ID}/Mappings",
    status_code=201,
    response_model=dict[str, MappingOut],
    responses=ERRORS,
    openapi_extra=documented_body(
        MappingInput, "Mapping", required=("MappingType", "JiraField", "TeamSupportField")
    ),
)
async def create_jira_mapping(
    ID: IdPath,
    request: Request,
    session: SessionDep,
    fmt: FormatDep,
) -> Response:
    instance = await instances.get_instance(session, ID)
    data = await read_model(request, fmt, MappingInput, "Mapping", frozenset({"ID"}))
    mapping = await instances.create_mapping(session, instance, data)
    return formatted(
        {"Mapping": instances.mapping_answer(mapping).model_dump(by_alias=True)}, fmt, 201
    )


@router.delete("/JiraInstances/{ID}/Mappings/{MappingID}", status_code=204, responses=ERRORS)
async def delete_jira_mapping(
    ID: IdPath,
    MappingID: IdPath,
    session: SessionDep,
) -> Response:
    await instances.delete_mapping(session, ID, MappingID)
    return Response(status_code=204)
