"""Webhooks to other apps (API.md v1.2 "Webhooks to other apps", docs/webhooks.md): a marketplace
admin registers its apps' endpoints, reads what was delivered to each, and sends a delivery
again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    POSITION_HEADER,
    Allowed,
    Ctx,
    Cursor,
    Limit,
    ReadAfter,
    Scope,
    WebhookQueriesDep,
    WebhooksDep,
    no_content,
)
from api.security import Principal
from domain.webhooks import DeliveryNotFound, WebhookEndpointNotFound

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhook endpoints"])
Manager = Annotated[Principal, Depends(Allowed("webhooks:manage"))]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        max_length=2000,
        description="https, on a public address (checked again at every delivery, after DNS)",
        examples=["https://apps.example.com/velora/hooks"],
    )
    events: list[str] = Field(
        min_length=1,
        max_length=100,
        description="CloudEvents types of docs/events.md, or `*` for every one",
        examples=[["order.paid", "order.shipped"]],
    )
    description: str | None = Field(default=None, max_length=500)


class EndpointCreated(BaseModel):
    id: str
    secret: str = Field(
        description="`whsec_…`: shown in this answer only. Check each delivery's "
        "`Velora-Signature` with it (docs/webhooks.md)"
    )


class EndpointOut(BaseModel):
    id: str
    tenant_id: str
    url: str
    events: list[str]
    description: str
    created_at: datetime


class EndpointPage(BaseModel):
    items: list[EndpointOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    id: str
    endpoint_id: str
    event_id: str = Field(description="the CloudEvent's id, sent as `Velora-Event-Id`")
    type: str
    subject: str = Field(description="the aggregate the event is about; its events go in order")
    position: int = Field(description="the event's position in the log")
    status: Literal["pending", "delivered", "failing", "dead"]
    attempts: int
    last_status_code: int | None = Field(description="none: no answer (see `last_error`)")
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="none once delivered or dead")
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


@router.post("", status_code=201, response_model=EndpointCreated)
def create_webhook_endpoint(
    body: EndpointIn,
    webhooks: WebhooksDep,
    ctx: Ctx,
    response: Response,
    principal: Manager,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> dict[str, str]:
    """Registers an endpoint of the marketplace. It receives the events of the types it names
    that happen from now on, each as a signed POST of its CloudEvent, retried for three days,
    each aggregate's in order.

    The secret is in this answer only (Velora keeps it sealed). A repeat with the same
    `Idempotency-Key` answers the same endpoint and secret, and registers no other."""
    origin = f"{principal.user_id}:{idempotency_key}" if idempotency_key else uuid4().hex
    made = webhooks.register(
        ctx,
        principal.tenant_id,
        url=body.url,
        events=body.events,
        description=body.description,
        origin=origin,
    )
    response.headers[POSITION_HEADER] = str(made.position)
    # It holds a secret: never cached, never kept by the idempotency store (api/headers.py).
    response.headers["Cache-Control"] = "no-store"
    return {"id": str(made.id), "secret": made.secret}


@router.get(
    "",
    response_model=EndpointPage,
    dependencies=[Depends(ReadAfter("webhook_endpoints"))],
)
def list_webhook_endpoints(
    queries: WebhookQueriesDep, scope: Scope, _: Manager, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    """The marketplace's endpoints, oldest first; deleted ones are gone. Never their secrets."""
    page = queries.endpoints(scope, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.delete("/{endpoint_id}", status_code=204)
def delete_webhook_endpoint(
    endpoint_id: UUID, webhooks: WebhooksDep, ctx: Ctx, principal: Manager
) -> Response:
    """Deletes an endpoint for good: nothing more is delivered to it, not even what was still
    to be. Again: 204, no change. Another marketplace's endpoint is 404."""
    return no_content(webhooks.delete(ctx, principal.tenant_id, endpoint_id))


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=DeliveryPage,
    dependencies=[Depends(ReadAfter("webhook_endpoints", "webhook_outbox"))],
)
def list_webhook_deliveries(
    endpoint_id: UUID,
    queries: WebhookQueriesDep,
    scope: Scope,
    _: Manager,
    status: Literal["pending", "delivered", "failing", "dead"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The endpoint's delivery log, in the order its events happened (`status`: only those).
    Each delivery is one CloudEvent to this endpoint, with its attempts so far."""
    if queries.endpoint(scope, str(endpoint_id)) is None:
        raise WebhookEndpointNotFound(f"webhook endpoint {endpoint_id} not found")
    page = queries.deliveries(scope, str(endpoint_id), status=status, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/retry", status_code=202, response_model=DeliveryOut
)
def retry_webhook_delivery(
    endpoint_id: UUID,
    delivery_id: UUID,
    webhooks: WebhooksDep,
    queries: WebhookQueriesDep,
    scope: Scope,
    principal: Manager,
) -> dict[str, Any]:
    """Sends a delivery again, whatever its status, as soon as its aggregate's order allows,
    with three more days of retries. 202: the delivery as it now waits to be sent."""
    webhooks.retry_delivery(principal.tenant_id, endpoint_id, delivery_id)
    delivery = queries.delivery(scope, str(endpoint_id), str(delivery_id))
    if delivery is None:  # gone between the two: as unknown
        raise DeliveryNotFound(f"delivery {delivery_id} not found")
    return delivery
