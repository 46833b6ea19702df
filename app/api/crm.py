"""The CRM-for-Jira command endpoint: `/plugins/servlet/crm/api?command=…` (GET or form POST)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import get_services, unit_of_work
from app.core.errors import BadRequest
from app.core.logging import get_logger
from app.crm import access
from app.crm.commands.context import CommandContext
from app.crm.commands.registry import COMMANDS, command_key
from app.crm.jira_sync import fetch_users, import_users
from app.crm.jobs import instance_for
from app.crm.params import Params
from app.crm.rights import COMMAND_RIGHTS

router = APIRouter(tags=["CRM"])
log = get_logger(__name__)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_params(request: Request) -> Params:
    items: list[tuple[str, str]] = list(request.query_params.multi_items())
    if request.method == "POST":
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media in FORM_TYPES:
            try:
                form = await request.form()
            except Exception as exc:  # malformed multipart bodies raise parser-specific errors
                raise BadRequest("The form body cannot be read.") from exc
            items += [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        elif (await request.body()).strip():
            raise BadRequest("Send the parameters in the query or as a form-encoded body.")
    for key, value in items:
        if "\x00" in key or "\x00" in value:
            raise BadRequest(f"Parameter {key.replace(chr(0), '')!r} contains a NUL character.")
    return Params(items)


class CrmError(BaseModel):
    success: bool
    error: str
    code: str


CRM_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": CrmError, "description": description}
    for status, description in (
        (400, "A bad or unknown parameter, named in `error`"),
        (401, "Wrong or missing apiKey, or unknown userName"),
        (403, "The user lacks the command's right"),
        (404, "No such object"),
        (409, "The name matches several objects (their ids are listed)"),
        (413, "The request body is too large"),
        (415, "The body is neither a form nor a query"),
        (502, "Jira did not answer as expected (sync, setcrmproperties)"),
    )
}


def _parameter(name: str, description: str, schema: dict[str, Any], *, required: bool) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


# The parameters every command takes (in the query, or for POST in a form too); a command's own
# (`companyId`, `crm_param_1`, a field code such as `clients-org_name`, …) are further ones, as
# CRM for Jira names them.
CRM_PARAMETERS = {
    "parameters": [
        _parameter(
            "command",
            "The command, case-insensitive",
            {"type": "string", "enum": sorted(COMMAND_RIGHTS)},
            required=True,
        ),
        _parameter(
            "apiKey",
            "The CRM API key (`PUT /api/json/Crm/Settings`)",
            {"type": "string"},
            required=True,
        ),
        _parameter(
            "userName", "A CRM user with the command's right", {"type": "string"}, required=True
        ),
    ]
}


@router.get(
    "/plugins/servlet/crm/api",
    operation_id="crm_command_get",
    responses=CRM_ERRORS,
    summary="Run a CRM command (CRM for Jira compatible), parameters in the query",
    openapi_extra=CRM_PARAMETERS,
)
@router.post(
    "/plugins/servlet/crm/api",
    operation_id="crm_command_post",
    responses=CRM_ERRORS,
    summary="Run a CRM command (CRM for Jira compatible), parameters in the query or a form",
    openapi_extra=CRM_PARAMETERS,
)
async def crm_command(request: Request) -> JSONResponse:
    params = await read_params(request)
    name = command_key(params.get("command") or "")
    answer: dict[str, Any]
    async with unit_of_work(request) as session:
        user = await access.authenticate(session, params.get("apiKey"), params.get("userName"))
        if not name:
            raise BadRequest("Parameter 'command' is required.", code="MissingParameter")
        if name not in COMMAND_RIGHTS:
            raise BadRequest(
                f"Parameter 'command': unknown command {name!r}.", code="UnknownCommand"
            )
        access.authorize(user, name)
        if name == "sync":
            instance = await instance_for(session, params.record_id("instanceId"))
        else:
            answer = await COMMANDS[name](CommandContext(session, params))
    if name == "sync":
        jira = await fetch_users(await get_services(request), instance)
        async with unit_of_work(request) as session:
            counts = await import_users(session, jira)
        answer = {
            "success": True,
            "instance": instance.name,
            "users": len(jira.users),
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "skipped": counts.skipped,
            "skippedBecause": {str(k): n for k, n in sorted(counts.skipped_because.items())},
        }
        log.info(
            "crm.sync.done",
            instance=instance.id,
            created=counts.created,
            updated=counts.updated,
            skipped=counts.skipped,
        )
    return JSONResponse(answer)
