"""Users by id, and the caller's own profile."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from api.deps import (
    Allowed,
    Ctx,
    CurrentUser,
    IdentityDep,
    IdentityQueriesDep,
    PersonalDataDep,
    ReadAfter,
    Scope,
    no_content,
)
from api.problems import Problem
from api.routes.tenants import User
from api.security import Principal
from projections.scope import TenantScope

router = APIRouter(prefix="/v1", tags=["users"])


@router.get("/users/{user_id}", response_model=User, dependencies=[Depends(ReadAfter("identity"))])
def get_user(
    user_id: UUID,
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("users:read"))],
) -> dict[str, Any]:
    """One user of a tenant the caller may see."""
    user = identity_queries.user(scope, str(user_id))
    if user is None:
        raise Problem(404, f"user {user_id} not found")
    return user


@router.get(
    "/me/export",
    dependencies=[Depends(ReadAfter("identity", "sellers", "catalog", "orders", "carts"))],
)
def export_me(principal: CurrentUser, personal_data: PersonalDataDep) -> dict[str, Any]:
    """Everything Velora holds about the signed-in person, as JSON (GDPR access and
    portability): profile, seller profiles, orders with their addresses, carts, reviews and
    refunds."""
    data = personal_data.export(TenantScope.only(principal.tenant_id), str(principal.user_id))
    if data is None:
        raise Problem(
            404, "your user is not in the read model yet; retry with X-Velora-Min-Position"
        )
    return data


@router.delete("/me", status_code=204)
def erase_me(principal: CurrentUser, identity: IdentityDep, ctx: Ctx) -> Response:
    """Erases the signed-in person (GDPR): their key is destroyed, so their names, emails and
    addresses read back redacted everywhere, history included; amounts, ids and the ledger stay.
    Their tokens stop working and they cannot sign in again."""
    result = identity.erase_user(ctx, principal.user_id, principal.tenant_id)
    return no_content(result)
