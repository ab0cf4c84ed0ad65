"""Webhook endpoints and their delivery log (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from tailor.api.context import Caller, Ctx
from tailor.api.webhooks import (
    DeliveryOut,
    DeliveryStatus,
    RotateIn,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("", status_code=201, summary="Register an endpoint; the answer holds its secret, shown once")
def create_webhook(body: WebhookIn, ctx: Ctx, who: Caller) -> WebhookCreated:
    return ctx.webhooks.create(who.user, body)


@router.get("", summary="Registered endpoints")
def list_webhooks(ctx: Ctx, who: Caller) -> list[WebhookOut]:
    return ctx.webhooks.list_endpoints(who.user)


@router.get("/{endpoint_id}", summary="One endpoint")
def get_webhook(endpoint_id: Id, ctx: Ctx, who: Caller) -> WebhookOut:
    return ctx.webhooks.get(who.user, endpoint_id)


@router.patch("/{endpoint_id}", summary="Change an endpoint's URL, events, description or active flag")
def update_webhook(endpoint_id: Id, body: WebhookPatch, ctx: Ctx, who: Caller) -> WebhookOut:
    return ctx.webhooks.update(who.user, endpoint_id, body)


@router.post(
    "/{endpoint_id}/rotate-secret",
    summary="A new signing secret, shown once; the old one also signs for `keep_previous_for_s` (default a day)",
)
def rotate_secret(endpoint_id: Id, ctx: Ctx, who: Caller, body: RotateIn | None = None) -> WebhookCreated:
    return ctx.webhooks.rotate_secret(who.user, endpoint_id, body or RotateIn())


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, summary="Remove an endpoint and its log")
def delete_webhook(endpoint_id: Id, ctx: Ctx, who: Caller) -> Response:
    ctx.webhooks.delete(who.user, endpoint_id)
    return Response(status_code=204)


@router.get("/{endpoint_id}/deliveries", summary="The delivery log, newest first")
def list_deliveries(
    endpoint_id: Id,
    ctx: Ctx,
    who: Caller,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    return ctx.webhooks.deliveries(who.user, endpoint_id, status=status, limit=limit)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery again (same id and body), with a fresh round of retries",
)
def redeliver(endpoint_id: Id, delivery_id: Id, ctx: Ctx, who: Caller) -> DeliveryOut:
    out = ctx.webhooks.redeliver(who.user, endpoint_id, delivery_id)
    ctx.dispatcher.wake()
    return out
