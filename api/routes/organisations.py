"""Organisations: a Seller Pro business, the marketplaces it sells on, and the tokens it acts
with in each (docs/api-seller-pro.md)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    Allowed,
    Ctx,
    OrganisationQueriesDep,
    OrganisationsDep,
    ReadAfter,
    Scope,
    TokensDep,
    commanded,
)
from api.policy import crosses_tenants
from api.problems import Problem
from api.routes.auth import IdResponse
from api.security import Principal
from domain.organisations import organisation_id_for
from domain.roles import Role

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class MarketplaceOut(BaseModel):
    tenant_id: str
    seller_id: str
    status: str = Field(description="its seller's there: pending, approved, rejected, suspended")


class OrganisationOut(BaseModel):
    id: str
    name: str
    marketplaces: list[MarketplaceOut]


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: UUID
    display_name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2, e.g. DE")


class MarketplaceTokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


def own_organisation(principal: Principal, organisation_id: UUID) -> UUID:
    """The organisation a seller_pro acts for is its own; any other id answers 404, as an
    unknown one. The platform's cross-tenant staff may read any."""
    if crosses_tenants(principal.roles):
        return organisation_id
    if Role.SELLER_PRO not in principal.roles or organisation_id != organisation_id_for(
        principal.user_id
    ):
        raise Problem(404, f"organisation {organisation_id} not found")
    return organisation_id


Founder = Annotated[Principal, Depends(Allowed("organisations:found"))]
Reader = Annotated[Principal, Depends(Allowed("organisations:read"))]
Actor = Annotated[Principal, Depends(Allowed("organisations:act"))]


@router.post("", status_code=201, response_model=IdResponse, responses={409: {}})
def found_organisation(
    body: OrganisationCreate,
    organisations: OrganisationsDep,
    ctx: Ctx,
    response: Response,
    principal: Founder,
) -> dict[str, str]:
    """Founds the calling seller_pro's organisation (one per user; 409 for a second). The user
    then acts for it."""
    return commanded(response, organisations.found(ctx, principal.user_id, body.name))


@router.get(
    "/{organisation_id}",
    response_model=OrganisationOut,
    dependencies=[Depends(ReadAfter("organisations", "sellers"))],
)
def get_organisation(
    organisation_id: UUID, queries: OrganisationQueriesDep, scope: Scope, principal: Reader
) -> dict[str, Any]:
    """The organisation, with each marketplace it applied to and its seller's status there."""
    found = queries.organisation(scope, str(own_organisation(principal, organisation_id)))
    if found is None:
        raise Problem(404, f"organisation {organisation_id} not found")
    return found


@router.post(
    "/{organisation_id}/marketplaces",
    status_code=201,
    response_model=MarketplaceOut,
    responses={403: {}, 404: {}, 409: {}},
)
def join_marketplace(
    organisation_id: UUID,
    body: JoinIn,
    organisations: OrganisationsDep,
    ctx: Ctx,
    response: Response,
    principal: Actor,
) -> dict[str, str]:
    """Applies to sell on a marketplace: the organisation is that tenant's seller from now on,
    pending until the tenant's marketplace admin approves it (`POST /v1/sellers/{id}/approve`).
    404 for an unknown tenant, 403 where the tenant's `seller_signup` is false, 409 when the
    organisation applied there before."""
    result = organisations.join(
        ctx,
        own_organisation(principal, organisation_id),
        body.tenant_id,
        body.display_name,
        body.country,
    )
    commanded(response, result)
    return {"tenant_id": str(body.tenant_id), "seller_id": str(result.id), "status": "pending"}


@router.post(
    "/{organisation_id}/marketplaces/{tenant_id}/token",
    response_model=MarketplaceTokenOut,
    responses={404: {}},
)
def marketplace_token(
    organisation_id: UUID,
    tenant_id: UUID,
    organisations: OrganisationsDep,
    tokens: TokensDep,
    response: Response,
    principal: Actor,
) -> MarketplaceTokenOut:
    """A token of that marketplace with role `seller`, acting for the organisation's seller
    there: every seller route works with it as for any seller. 404 where the organisation has
    not applied."""
    own = own_organisation(principal, organisation_id)
    organisations.seller_in(own, tenant_id)
    # Tokens are secrets: no cache, and no idempotent replay, may keep them (RFC 6749 5.1).
    response.headers["Cache-Control"] = "no-store"
    access = tokens.issue(
        str(principal.user_id), str(tenant_id), [Role.SELLER.value], organisation_id=str(own)
    )
    return MarketplaceTokenOut(access_token=access, expires_in=tokens.ttl_s)
