"""The Jira Integration screen: an instance's settings (Save, Test Connection, Reconcile now,
Delete) and its Custom Mappings, through the same services as `/JiraInstances`. A refusal is
shown next to the field it is about, in the API's words, and nothing of it is kept: the
request's transaction is rolled back before the screen is shown again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import Response

from app.console.deps import DbDep, FormDep, IdPath, SettingsDep, SignedInDep
from app.console.jira_forms import (
    FLAGS,
    INSTANCE_FIELDS,
    MAPPING_FIELDS,
    FormProblem,
    field_of,
    instance_elements,
    mapping_elements,
)
from app.console.pages import PREFIX, redirect, render
from app.core.errors import ApiError
from app.core.settings import Settings
from app.core.wire import MAX_ID, validate_elements
from app.helpdesk.catalog import ACTION_TYPES, TICKET_TYPES, list_items
from app.integration import instances
from app.integration.diagnostics import test_connection
from app.integration.inbound.reconcile import enqueue_reconcile
from app.integration.models import DEFAULT_INSTANCE_NAME, JiraInstance
from app.integration.schemas import JIRA_INSTANCE_READ_ONLY, JiraInstanceInput, MappingInput
from app.integration.services import Services
from app.integration.webhook_registration import register_webhook

router = APIRouter(prefix=f"{PREFIX}/jira", include_in_schema=False)
NOTICES = {
    "saved": "Saved.",
    "created": "Instance created.",
    "deleted": "Instance deleted.",
    "reconcile": "Reconcile queued: the linked issues changed since the last run are read again.",
    "mapping-added": "Mapping added.",
    "mapping-removed": "Mapping removed.",
}
InstanceQuery = Annotated[int | None, Query(alias="instance", ge=1, le=MAX_ID)]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _values(instance: JiraInstance, action_type: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        field: getattr(instance, field, "") for field, _, _ in INSTANCE_FIELDS if field
    }
    values.update(api_token="", api_token_confirm="", webhook_secret="")
    values["action_type_to_push"] = action_type or ""
    values["default_project_key"] = instance.default_project_key or ""
    values["crm_property_field"] = instance.crm_property_field or ""
    return values


def _submitted(form: Any) -> dict[str, Any]:
    values = {field: form.get(field, "") for field, _, _ in INSTANCE_FIELDS}
    values.update(api_token="", api_token_confirm="", webhook_secret="")  # never echoed
    values["allowed_ticket_type_ids"] = [
        int(v) for v in form.getlist("allowed_ticket_type_ids") if str(v).isdigit()
    ]
    for flag in FLAGS:
        values[flag] = form.get(flag) is not None
    return values


async def _screen(
    request: Request,
    db: AsyncSession,
    settings: Settings,
    session: Any,
    instance: JiraInstance | None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    mapping_values: dict[str, Any] | None = None,
    status_code: int = 200,
    test: Any = None,
    notice: str | None = None,
) -> Response:
    """The screen for `instance` (None: a new one)."""
    all_instances = await instances.list_instances(db)
    answer = None
    if instance is not None:
        (answer,) = await instances.instance_answers(db, [instance], settings.public_url)
    mappings = await instances.list_mappings(db, instance.id or 0) if instance else []
    return render(
        request,
        "jira.html",
        session,
        status_code,
        instances=all_instances,
        instance=instance,
        is_default=instance is not None and instance.name == DEFAULT_INSTANCE_NAME,
        values={
            **(
                values
                or (_values(instance, answer.action_type_to_push) if instance and answer else {})
            ),
            **(mapping_values or {}),
        },
        token_set=bool(instance and instance.api_token_encrypted),
        secret_set=bool(instance and instance.webhook_secret_encrypted),
        webhook_url=answer.webhook_url if answer else "",
        action_types=await list_items(db, ACTION_TYPES),
        ticket_types=await list_items(db, TICKET_TYPES),
        mappings=[instances.mapping_answer(m) for m in mappings],
        errors=errors or {},
        test=test,
        notice=notice,
        labels={field: label for field, _, label in INSTANCE_FIELDS + MAPPING_FIELDS},
    )


@router.get("")
async def jira_screen(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    session: SignedInDep,
    instance_id: InstanceQuery = None,
    notice: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    instance = (
        await instances.get_instance(db, instance_id)
        if instance_id
        else await instances.default_instance(db)
    )
    return await _screen(request, db, settings, session, instance, notice=NOTICES.get(notice or ""))


@router.get("/instances/new")
async def new_instance(
    request: Request, db: DbDep, settings: SettingsDep, session: SignedInDep
) -> Response:
    values = {"auth_method": "Basic", "use_all_ticket_types": True}
    return await _screen(request, db, settings, session, None, values=values)


async def _refused(
    request: Request,
    db: AsyncSession,
    settings: Settings,
    session: Any,
    instance: JiraInstance | None,
    problem: FormProblem,
    **context: Any,
) -> Response:
    instance_id = instance.id if instance is not None else None
    await db.rollback()
    if instance_id is not None:
        instance = await instances.get_instance(db, instance_id)
    return await _screen(
        request,
        db,
        settings,
        session,
        instance,
        errors={problem.field or "form": problem.message},
        status_code=400,
        **context,
    )


def _problem(exc: ApiError, fields: Any) -> FormProblem:
    return FormProblem(field_of(exc.message, fields), exc.message)


@router.post("")
async def create_instance(
    request: Request, db: DbDep, settings: SettingsDep, session: SignedInDep, form: FormDep
) -> Response:
    return await _store(request, db, settings, session, form, None)


@router.post("/{instance_id}")
async def save_instance(
    request: Request,
    instance_id: IdPath,
    db: DbDep,
    settings: SettingsDep,
    session: SignedInDep,
    form: FormDep,
) -> Response:
    instance = await instances.get_instance(db, instance_id)
    return await _store(request, db, settings, session, form, instance)


async def _store(
    request: Request,
    db: AsyncSession,
    settings: Settings,
    session: Any,
    form: FormData,
    instance: JiraInstance | None,
) -> Response:
    """Create an instance from the form (`instance` None) or save the form into it."""
    renameable = instance is None or instance.name != DEFAULT_INSTANCE_NAME
    secrets, allow_private = _services(request).secrets, settings.allow_private_jira_hosts
    try:
        data = validate_elements(
            JiraInstanceInput,
            instance_elements(form, renameable=renameable),
            JIRA_INSTANCE_READ_ONLY,
        )
        if instance is None:
            stored = await instances.create_instance(db, data, secrets, allow_private=allow_private)
            notice = "created"
        else:
            await instances.update_instance(
                db, instance, data, secrets, allow_private=allow_private
            )
            stored, notice = instance, "saved"
    except (FormProblem, ApiError) as exc:
        problem = exc if isinstance(exc, FormProblem) else _problem(exc, INSTANCE_FIELDS)
        return await _refused(
            request, db, settings, session, instance, problem, values=_submitted(form)
        )
    return redirect(f"{PREFIX}/jira?instance={stored.id}&notice={notice}")


@router.post("/{instance_id}/test")
async def test_instance(
    request: Request,
    instance_id: IdPath,
    db: DbDep,
    settings: SettingsDep,
    session: SignedInDep,
    form: FormDep,
) -> Response:
    instance = await instances.get_instance(db, instance_id)
    result = await test_connection(
        _services(request),
        instance,
        timeout=settings.jira_test_timeout_seconds,
        public_url=settings.public_url,
    )
    return await _screen(request, db, settings, session, instance, test=result)


@router.post("/{instance_id}/register-webhook")
async def register_instance_webhook(
    request: Request,
    instance_id: IdPath,
    db: DbDep,
    settings: SettingsDep,
    session: SignedInDep,
    form: FormDep,
) -> Response:
    """Create or update the instance's webhook in Jira (`POST /JiraInstances/{ID}/RegisterWebhook`);
    the answer, in plain words, where Test Connection's goes."""
    instance = await instances.get_instance(db, instance_id)
    try:
        result = await register_webhook(
            _services(request),
            instance,
            settings.public_url,
            timeout=settings.jira_test_timeout_seconds,
        )
    except ApiError as exc:
        return await _refused(
            request, db, settings, session, instance, FormProblem("", exc.message)
        )
    return await _screen(request, db, settings, session, instance, test=result)


@router.post("/{instance_id}/reconcile")
async def reconcile_instance(
    instance_id: IdPath, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    await enqueue_reconcile(db, (await instances.get_instance(db, instance_id)).id or 0)
    return redirect(f"{PREFIX}/jira?instance={instance_id}&notice=reconcile")


@router.post("/{instance_id}/delete")
async def delete_instance(
    request: Request,
    instance_id: IdPath,
    db: DbDep,
    settings: SettingsDep,
    session: SignedInDep,
    form: FormDep,
) -> Response:
    instance = await instances.get_instance(db, instance_id)
    try:
        await instances.delete_instance(db, instance)
    except ApiError as exc:
        return await _refused(
            request, db, settings, session, instance, FormProblem("", exc.message)
        )
    await _services(request).jira.discard(instance_id)
    return redirect(f"{PREFIX}/jira?notice=deleted")


@router.post("/{instance_id}/mappings")
async def add_mapping(
    request: Request,
    instance_id: IdPath,
    db: DbDep,
    settings: SettingsDep,
    session: SignedInDep,
    form: FormDep,
) -> Response:
    instance = await instances.get_instance(db, instance_id)
    try:
        data = validate_elements(MappingInput, mapping_elements(form))
        await instances.create_mapping(db, instance, data)
    except ApiError as exc:
        submitted = {field: form.get(field, "") for field, _, _ in MAPPING_FIELDS}
        return await _refused(
            request,
            db,
            settings,
            session,
            instance,
            _problem(exc, MAPPING_FIELDS),
            mapping_values=submitted,
        )
    return redirect(f"{PREFIX}/jira?instance={instance_id}&notice=mapping-added")


@router.post("/{instance_id}/mappings/{mapping_id}/remove")
async def remove_mapping(
    instance_id: IdPath, mapping_id: IdPath, db: DbDep, session: SignedInDep, form: FormDep
) -> Response:
    await instances.delete_mapping(db, instance_id, mapping_id)
    return redirect(f"{PREFIX}/jira?instance={instance_id}&notice=mapping-removed")
