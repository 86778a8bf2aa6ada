"""A marketplace's publishable keys: what its storefronts send, as `X-Velora-Publishable-Key`,
for visitors who have not signed in (guests, domain/storefront.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    POSITION_HEADER,
    Allowed,
    Ctx,
    Cursor,
    IdentityQueriesDep,
    Limit,
    ReadAfter,
    Scope,
    StorefrontDep,
    StorefrontQueriesDep,
    TokensDep,
    confinement,
    no_content,
)
from api.problems import Problem
from api.security import Principal

router = APIRouter(prefix="/v1/tenants", tags=["publishable keys"])
Manager = Annotated[Principal, Depends(Allowed("publishable_keys:manage"))]
Reader = Annotated[Principal, Depends(Allowed("publishable_keys:read"))]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        min_length=1, max_length=100, description="what the key is for, e.g. `Web shop`"
    )


class KeyCreated(BaseModel):
    id: str
    key: str = Field(
        description="`pk_…`: shown this once and never again (only its digest is kept); send "
        "it as `X-Velora-Publishable-Key` with a guest's requests"
    )


class KeyOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    redacted: str = Field(description="`pk_…` and the key's last four characters")
    status: Literal["active", "deleted"]
    created_at: datetime
    deleted_at: datetime | None


class KeyPage(BaseModel):
    items: list[KeyOut]
    next_cursor: str | None


@router.post("/{tenant_id}/publishable-keys", status_code=201, response_model=KeyCreated)
def create_publishable_key(
    tenant_id: UUID,
    body: KeyIn,
    storefront: StorefrontDep,
    tokens: TokensDep,
    ctx: Ctx,
    response: Response,
    principal: Manager,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> dict[str, str]:
    """Makes a publishable key for one of the marketplace's storefronts. A request with it and
    no bearer token is a guest of this marketplace: it reads products and their variants,
    search and suggestions, categories, a product's reviews and a seller's public profile;
    anything else answers 401.

    The key is in this answer only: Velora keeps its digest, never the key (nor the answer).
    A repeat with the same `Idempotency-Key` answers the same key and makes no other: the key's
    secret derives from its id under the signing key."""
    origin = f"{principal.user_id}:{idempotency_key}" if idempotency_key else uuid4().hex
    created = storefront.create_key(
        ctx,
        tenant_id,
        confinement(principal),
        body.name,
        origin=origin,
        secret_of=lambda key_id: tokens.derived_secret("publishable_key", key_id),
    )
    response.headers[POSITION_HEADER] = str(created.position)
    # It holds a secret: never cached, never kept by the idempotency store (api/headers.py).
    response.headers["Cache-Control"] = "no-store"
    return {"id": str(created.id), "key": created.key}


@router.get(
    "/{tenant_id}/publishable-keys",
    response_model=KeyPage,
    dependencies=[Depends(ReadAfter("identity", "storefront"))],
)
def list_publishable_keys(
    tenant_id: UUID,
    storefront_queries: StorefrontQueriesDep,
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    _: Reader,
    status: Annotated[
        Literal["active", "deleted"] | None, Query(description="none: every key")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The marketplace's publishable keys, oldest first: deleted ones stay listed, with when
    they were deleted. Each shows its name and last four characters, never the key."""
    if identity_queries.tenant(scope, str(tenant_id)) is None:
        raise Problem(404, f"tenant {tenant_id} not found")  # another tenant's, or none
    page = storefront_queries.keys(scope, str(tenant_id), status=status, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.delete("/{tenant_id}/publishable-keys/{key_id}", status_code=204)
def delete_publishable_key(
    tenant_id: UUID, key_id: UUID, storefront: StorefrontDep, ctx: Ctx, principal: Manager
) -> Response:
    """Deletes a key: every request with it answers 401 from now on, in every API process.
    Deleting a deleted key changes nothing (204 again); a key of another marketplace is 404."""
    result = storefront.delete_key(ctx, tenant_id, confinement(principal), key_id)
    return no_content(result)
