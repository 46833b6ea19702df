"""`POST /webhooks/jira/{InstanceID}`: Jira's webhooks, authenticated by the instance's secret
(not the API token), stored de-duplicated and answered at once.

Every event of every project of every connected Jira arrives here, so this route reads its few
parameters straight from the request instead of through FastAPI's per-request parameter solving
(a third of this path's CPU); `WEBHOOK_PARAMETERS` documents them in the OpenAPI spec.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import JSONResponse

from app.api.deps import get_services, unit_of_work
from app.core.errors import BadRequest
from app.core.wire import MAX_ID, PathId
from app.integration.inbound.inbox import SessionInbox, WebhookInbox
from app.integration.inbound.inbox_postgres import PostgresInboxPool
from app.integration.inbound.receive import (
    authenticate,
    delivery_identifier,
    instance_auth_or_404,
    parse_json,
    receive,
)

router = APIRouter(tags=["Webhooks"])

MAX_SECRET_CHARS = 1024
_INSTANCE_ID: TypeAdapter[int] = TypeAdapter(PathId)


def _optional_string(location: str, name: str, title: str, **limits: Any) -> dict[str, Any]:
    return {
        "in": location,
        "name": name,
        "required": False,
        "schema": {"anyOf": [{"type": "string", **limits}, {"type": "null"}], "title": title},
    }


WEBHOOK_PARAMETERS = [
    {
        "in": "path",
        "name": "InstanceID",
        "required": True,
        "schema": {"maximum": MAX_ID, "minimum": 1, "title": "Instanceid", "type": "integer"},
    },
    _optional_string("query", "secret", "Secret", maxLength=MAX_SECRET_CHARS),
    _optional_string("header", "x-hub-signature", "X-Hub-Signature"),
    _optional_string("header", "x-atlassian-webhook-identifier", "X-Atlassian-Webhook-Identifier"),
    _optional_string("header", "x-atlassian-webhook-retry", "X-Atlassian-Webhook-Retry"),
]


def instance_id_of(text: str) -> int:
    try:
        return _INSTANCE_ID.validate_strings(text)
    except ValidationError as exc:
        raise BadRequest(f"path.InstanceID: {exc.errors()[0]['msg']}") from None


@asynccontextmanager
async def inbox_for(request: Request) -> AsyncIterator[WebhookInbox]:
    """PostgreSQL's one-statement inbox when the app has one, else a unit of work (committed
    when the block ends, so the delivery is stored before the answer is sent)."""
    postgres: PostgresInboxPool | None = request.app.state.webhook_inbox
    if postgres is not None:
        async with postgres.inbox() as inbox:
            yield inbox
        return
    async with unit_of_work(request) as session:
        yield SessionInbox(session)


@router.post(
    "/webhooks/jira/{InstanceID}",
    responses={
        200: {
            "description": "Stored (or a duplicate, an event the tickets do not use, or JSON "
            "that is no Jira webhook: kept as unreadable, never applied)"
        },
        202: {"description": "The instance's synchronization is not active: logged, not applied"},
        400: {"description": "Malformed JSON, or JSON that is not an object"},
        401: {"description": "Missing or wrong signature / secret"},
        404: {"description": "No such Jira instance"},
    },
    openapi_extra={"parameters": WEBHOOK_PARAMETERS},
)
async def jira_webhook(request: Request) -> JSONResponse:
    instance_id = instance_id_of(request.path_params["InstanceID"])
    headers = request.headers
    secret = request.query_params.get("secret")
    if secret is not None and len(secret) > MAX_SECRET_CHARS:
        raise BadRequest(f"secret: at most {MAX_SECRET_CHARS} characters.")
    async with inbox_for(request) as inbox:
        body = await request.body()
        instance = await instance_auth_or_404(inbox, instance_id)
        authenticate(
            instance,
            (await get_services(request)).secrets,
            body,
            headers.get("x-hub-signature"),
            secret,
        )
        payload = parse_json(body)
        delivery_id = delivery_identifier(headers.get("x-atlassian-webhook-identifier"), body)
        received = await receive(
            inbox,
            instance,
            body,
            payload,
            delivery_id,
            retry=headers.get("x-atlassian-webhook-retry"),
        )
    return JSONResponse(
        {"status": received.outcome, "deliveryId": received.delivery_id},
        status_code=received.status_code,
    )
