"""The signed-in person's own profile and saved addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    READ_WAIT_S,
    Ctx,
    CurrentUser,
    Cursor,
    EventLogDep,
    IdentityQueriesDep,
    Limit,
    ProfileQueriesDep,
    ProfilesDep,
    ReadAfter,
    ReadStoreDep,
    commanded,
    no_content,
)
from api.problems import Problem
from api.schemas import Address, WithId
from projections.scope import TenantScope

router = APIRouter(prefix="/v1/me", tags=["profile"])


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, max_length=100, description="null clears it")
    phone: str | None = Field(
        default=None, max_length=32, description="E.164, e.g. +4930123456; null clears it"
    )
    locale: str | None = Field(
        default=None, max_length=35, description="a BCP 47 tag, e.g. de-DE; null clears it"
    )
    marketing_opt_in: bool | None = Field(
        default=None, strict=True, description="consent to marketing email; its time is kept"
    )


class MeOut(WithId):
    id_was = "user_id"
    user_id: str = Field(description="the same as id (an alias kept until v2)")
    tenant_id: str
    email: str
    roles: list[str]
    created_at: datetime
    display_name: str | None
    phone: str | None
    locale: str | None
    marketing_opt_in: bool
    marketing_changed_at: datetime | None


class AddressIn(Address):
    default: bool = Field(default=False, strict=True, description="make it the default")


class AddressPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    line1: str | None = Field(default=None, min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    postal_code: str | None = Field(default=None, min_length=1, max_length=20)
    region: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    default: bool | None = Field(
        default=None, strict=True, description="true: make it the default; false: no default"
    )


class AddressOut(Address):
    id: str
    default: bool
    created_at: datetime
    updated_at: datetime


class AddressPage(BaseModel):
    items: list[AddressOut]
    next_cursor: str | None


@router.get("", response_model=MeOut, dependencies=[Depends(ReadAfter("identity", "profiles"))])
def me(
    principal: CurrentUser,
    identity_queries: IdentityQueriesDep,
    profile_queries: ProfileQueriesDep,
    read_store: ReadStoreDep,
    log: EventLogDep,
) -> dict[str, Any]:
    """The signed-in user's account and profile. Right after signing up it answers too: when
    the account is not in the read model yet, it waits for the read models to reach the log."""
    scope, user_id = TenantScope.only(principal.tenant_id), str(principal.user_id)
    user = identity_queries.user(scope, user_id)
    if user is None:
        read_store.wait_for(log.head(), ("identity", "profiles"), READ_WAIT_S)
        user = identity_queries.user(scope, user_id)
    if user is None:
        raise Problem(
            503, "the read models are behind the event log; retry", headers={"Retry-After": "1"}
        )
    return user | profile_queries.profile(scope, user_id)


@router.patch("", response_model=dict[str, str])
def change_me(
    body: ProfileIn, principal: CurrentUser, profiles: ProfilesDep, ctx: Ctx, response: Response
) -> dict[str, str]:
    """Changes the given profile fields; fields left out stay as they are."""
    result = profiles.change_details(
        ctx, principal.tenant_id, principal.user_id, body.model_dump(exclude_unset=True)
    )
    return {**commanded(response, result), "id": str(principal.user_id)}


@router.get("/addresses", response_model=AddressPage, dependencies=[Depends(ReadAfter("profiles"))])
def my_addresses(
    principal: CurrentUser,
    profile_queries: ProfileQueriesDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The caller's saved addresses, oldest first; `default` marks the default one."""
    page = profile_queries.addresses(
        TenantScope.only(principal.tenant_id),
        str(principal.user_id),
        limit=limit,
        cursor=cursor,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/addresses",
    status_code=201,
    response_model=dict[str, str],
    responses={409: {"description": "the address book is full (20 addresses)"}},
)
def add_address(
    body: AddressIn, principal: CurrentUser, profiles: ProfilesDep, ctx: Ctx, response: Response
) -> dict[str, str]:
    """Saves an address. The first one saved, or one sent with `default: true`, becomes the
    default (at most one is)."""
    fields = body.model_dump(exclude={"default"})
    result = profiles.add_address(
        ctx, principal.tenant_id, principal.user_id, fields, default=body.default
    )
    return commanded(response, result)


@router.patch("/addresses/{address_id}", response_model=dict[str, str])
def change_address(
    address_id: UUID,
    body: AddressPatch,
    principal: CurrentUser,
    profiles: ProfilesDep,
    ctx: Ctx,
    response: Response,
) -> dict[str, str]:
    """Changes the given fields of one of the caller's addresses; `default: true` makes it the
    default, `default: false` leaves the caller with none."""
    fields = body.model_dump(exclude_unset=True, exclude={"default"})
    if any(v is None for v in fields.values()):
        raise Problem(
            422,
            "address fields cannot be null",
            errors=[
                {"loc": ["body", k], "msg": "send a value or leave the field out"}
                for k, v in fields.items()
                if v is None
            ],
        )
    result = profiles.change_address(
        ctx, principal.tenant_id, principal.user_id, address_id, fields, default=body.default
    )
    return commanded(response, result)


@router.delete("/addresses/{address_id}", status_code=204)
def remove_address(
    address_id: UUID, principal: CurrentUser, profiles: ProfilesDep, ctx: Ctx
) -> Response:
    """Forgets one of the caller's addresses. Orders already shipped to it keep their copy."""
    result = profiles.remove_address(ctx, principal.tenant_id, principal.user_id, address_id)
    return no_content(result)
