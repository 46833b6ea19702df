"""Routers for outgoing events: EventSubscriptions (with Test) and the EventDeliveries log with
replay."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.api.bodies import documented_body, read_model
from app.api.deps import EventSenderDep, FormatDep, IdPath, ServicesDep, SessionDep, SettingsDep
from app.api.responses import formatted
from app.core.wire import MAX_ID, IsoDateTime
from app.outgoing import deliveries, subscriptions
from app.outgoing.models import DeliveryStatus
from app.outgoing.schemas import (
    SUBSCRIPTION_READ_ONLY,
    DeliveryOut,
    SubscriptionInput,
    SubscriptionOut,
    SubscriptionTestOut,
)

router = APIRouter(tags=["EventSubscriptions"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad input"},
    404: {"description": "Not found"},
    409: {"description": "Conflict"},
}


def _subscription(answer: SubscriptionOut) -> dict[str, Any]:
    body = answer.model_dump(mode="json", by_alias=True)
    if body.get("Secret") is None:
        body.pop("Secret", None)  # write-only: answered once, on creation
    return body


@router.get("/EventSubscriptions", response_model=dict[str, list[SubscriptionOut]])
async def list_event_subscriptions(session: SessionDep, fmt: FormatDep) -> Response:
    rows = await subscriptions.list_subscriptions(session)
    answers = [_subscription(subscriptions.subscription_answer(row)) for row in rows]
    return formatted({"EventSubscriptions": answers}, fmt)


@router.post(
    "/EventSubscriptions",
    status_code=201,
    response_model=dict[str, SubscriptionOut],
    responses=ERRORS,
    openapi_extra=documented_body(SubscriptionInput, "EventSubscription", required=("Name", "URL")),
)
async def create_event_subscription(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    fmt: FormatDep,
) -> Response:
    data = await read_model(
        request, fmt, SubscriptionInput, "EventSubscription", SUBSCRIPTION_READ_ONLY
    )
    row, secret = await subscriptions.create_subscription(
        session, data, services.secrets, allow_private=settings.allow_private_event_urls
    )
    answer = _subscription(subscriptions.subscription_answer(row, secret))
    return formatted({"EventSubscription": answer}, fmt, 201)


@router.get("/EventSubscriptions/{ID}", response_model=dict[str, SubscriptionOut], responses=ERRORS)
async def get_event_subscription(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    row = await subscriptions.get_subscription(session, ID)
    return formatted(
        {"EventSubscription": _subscription(subscriptions.subscription_answer(row))}, fmt
    )


@router.put(
    "/EventSubscriptions/{ID}",
    response_model=dict[str, SubscriptionOut],
    responses=ERRORS,
    openapi_extra=documented_body(SubscriptionInput, "EventSubscription", min_elements=1),
)
async def update_event_subscription(
    ID: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    fmt: FormatDep,
) -> Response:
    row = await subscriptions.get_subscription(session, ID)
    data = await read_model(
        request, fmt, SubscriptionInput, "EventSubscription", SUBSCRIPTION_READ_ONLY
    )
    await subscriptions.update_subscription(
        session, row, data, services.secrets, allow_private=settings.allow_private_event_urls
    )
    return formatted(
        {"EventSubscription": _subscription(subscriptions.subscription_answer(row))}, fmt
    )


@router.delete("/EventSubscriptions/{ID}", status_code=204, responses=ERRORS)
async def delete_event_subscription(ID: IdPath, session: SessionDep) -> Response:
    await subscriptions.delete_subscription(
        session, await subscriptions.get_subscription(session, ID)
    )
    return Response(status_code=204)


@router.post(
    "/EventSubscriptions/{ID}/Test",
    response_model=dict[str, SubscriptionTestOut],
    responses=ERRORS,
)
async def test_event_subscription(
    ID: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    sender: EventSenderDep,
    fmt: FormatDep,
) -> Response:
    row = await subscriptions.get_subscription(session, ID)
    result = await deliveries.ping(
        row, services.secrets, sender, timeout=settings.jira_test_timeout_seconds
    )
    return formatted({"Test": result.model_dump(mode="json", by_alias=True)}, fmt)


@router.get("/EventDeliveries", response_model=dict[str, list[DeliveryOut]], responses=ERRORS)
async def list_event_deliveries(
    session: SessionDep,
    settings: SettingsDep,
    fmt: FormatDep,
    subscription_id: Annotated[int | None, Query(alias="SubscriptionID", ge=1, le=MAX_ID)] = None,
    status: Annotated[DeliveryStatus | None, Query(alias="Status")] = None,
    ticket_id: Annotated[int | None, Query(alias="TicketID", ge=1, le=MAX_ID)] = None,
    since: Annotated[IsoDateTime | None, Query(alias="Since")] = None,
    page_number: Annotated[int, Query(alias="PageNumber", ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int | None, Query(alias="PageSize", ge=1, le=MAX_ID)] = None,
) -> Response:
    size = min(page_size or settings.page_size_default, settings.page_size_max)
    filters = deliveries.DeliveryFilters(subscription_id, status, ticket_id, since)
    rows, total = await deliveries.list_deliveries(session, filters, page_number, size)
    answers = [
        deliveries.delivery_answer(row).model_dump(mode="json", by_alias=True) for row in rows
    ]
    return formatted(
        {"EventDeliveries": answers},
        fmt,
        headers={"X-Total-Count": str(total), "X-Page-Size": str(size)},
    )


@router.get("/EventDeliveries/{ID}", response_model=dict[str, DeliveryOut], responses=ERRORS)
async def get_event_delivery(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    row = await deliveries.get_delivery(session, ID)
    answer = deliveries.delivery_answer(row).model_dump(mode="json", by_alias=True)
    return formatted({"EventDelivery": answer}, fmt)


@router.post("/EventDeliveries/{ID}/Retry", response_model=dict[str, DeliveryOut], responses=ERRORS)
async def retry_event_delivery(
    ID: IdPath, session: SessionDep, settings: SettingsDep, fmt: FormatDep
) -> Response:
    row = await deliveries.retry_delivery(
        session, await deliveries.get_delivery(session, ID), settings
    )
    answer = deliveries.delivery_answer(row).model_dump(mode="json", by_alias=True)
    return formatted({"EventDelivery": answer}, fmt)
