"""Users by id, and the caller's own profile."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from api.deps import Allowed, ContainerDep, CurrentUser, ReadAfter, Scope
from api.problems import Problem
from api.routes.tenants import User
from api.security import Principal
from projections.scope import TenantScope

router = APIRouter(prefix="/v1", tags=["users"])


@router.get("/users/{user_id}", response_model=User, dependencies=[Depends(ReadAfter("identity"))])
def get_user(
    user_id: UUID,
    container: ContainerDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("users:read"))],
) -> dict[str, Any]:
    """One user of a tenant the caller may see."""
    user = container.identity_queries.user(scope, str(user_id))
    if user is None:
        raise Problem(404, f"user {user_id} not found")
    return user


@router.get("/me", response_model=User, dependencies=[Depends(ReadAfter("identity"))])
def me(principal: CurrentUser, container: ContainerDep) -> dict[str, Any]:
    """The signed-in user's own profile."""
    user = container.identity_queries.user(TenantScope.only(principal.tenant_id), principal.user_id)
    if user is None:
        raise Problem(
            404, "your user is not in the read model yet; retry with X-Velora-Min-Position"
        )
    return user
