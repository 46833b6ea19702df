"""`POST /webhooks/jira/{InstanceID}`: Jira's webhooks, authenticated by the instance's secret
(not the API token), stored de-duplicated and answered at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import JSONResponse

from app.api.deps import IdPath, unit_of_work
from app.sync.jira_webhooks import (
    authenticate,
    delivery_identifier,
    instance_auth_or_404,
    parse_json,
    receive,
)
from app.sync.webhook_inbox import SessionInbox, WebhookInbox
from app.sync.webhook_inbox_postgres import PostgresInboxPool

router = APIRouter(tags=["Webhooks"])


async def get_inbox(request: Request) -> AsyncIterator[WebhookInbox]:
    """PostgreSQL's one-statement inbox when the app has one, else the request's unit of work."""
    postgres: PostgresInboxPool | None = request.app.state.webhook_inbox
    if postgres is not None:
        async with postgres.inbox() as inbox:
            yield inbox
        return
    async with unit_of_work(request) as session:
        yield SessionInbox(session)


# scope="function": stored (and committed) before the answer is sent, like SessionDep.
InboxDep = Annotated[WebhookInbox, Depends(get_inbox, scope="function")]


@router.post(
    "/webhooks/jira/{InstanceID}",
    responses={
        200: {"description": "Stored (or a duplicate, or an event the tickets do not use)"},
        202: {"description": "The instance's synchronization is not active: logged, not applied"},
        400: {"description": "Malformed JSON"},
        401: {"description": "Missing or wrong signature / secret"},
        404: {"description": "No such Jira instance"},
    },
)
async def jira_webhook(
    InstanceID: IdPath,  # noqa: N803
    request: Request,
    inbox: InboxDep,
    secret: Annotated[str | None, Query(max_length=1024)] = None,
    x_hub_signature: Annotated[str | None, Header()] = None,
    x_atlassian_webhook_identifier: Annotated[str | None, Header()] = None,
    x_atlassian_webhook_retry: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    body = await request.body()
    instance = await instance_auth_or_404(inbox, InstanceID)
    authenticate(instance, request.app.state.worker_context.secrets, body, x_hub_signature, secret)
    payload = parse_json(body)
    delivery_id = delivery_identifier(x_atlassian_webhook_identifier, body)
    received = await receive(
        inbox, instance, body, payload, delivery_id, retry=x_atlassian_webhook_retry
    )
    return JSONResponse(
        {"status": received.outcome, "deliveryId": received.delivery_id},
        status_code=received.status_code,
    )
