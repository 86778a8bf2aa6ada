"""Tenants (marketplaces) and their users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from api.deps import (
    Allowed,
    Ctx,
    Cursor,
    IdentityDep,
    IdentityQueriesDep,
    Limit,
    ReadAfter,
    Scope,
    commanded,
    confinement,
)
from api.problems import Problem
from api.routes.auth import IdResponse
from api.schemas import AmountIn, MoneyOut, WithId
from api.security import Principal
from domain.base import PLATFORM_TENANT_ID
from domain.roles import Role
from domain.tax import TaxTable
from domain.tenant_settings import PayoutSchedule

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. USD")
    commission_bps: int = Field(ge=0, le=10_000, description="platform commission, basis points")
    escrow_hold_days: int = Field(ge=0, le=365)
    product_moderation: str = Field(default="required", pattern="^(required|auto)$")
    hold_timeout_s: int = Field(default=1800, ge=60, le=7 * 24 * 3600)
    min_payout: AmountIn | None = Field(
        default=None, description="sellers are paid out once their balance reaches it"
    )
    dispute_fee_payer: Literal["seller", "platform"] = Field(
        default="seller", description="who bears the fee of a lost dispute"
    )
    return_window_days: int = Field(
        default=30, ge=0, le=365, description="days after delivery a buyer may ask to return"
    )
    seller_signup: StrictBool = Field(
        default=True,
        description="whether people may sign themselves up as sellers (POST /v1/auth/signup "
        "with role seller)",
    )
    commission_on_shipping: StrictBool = Field(
        default=False,
        description="whether commission is taken on what buyers pay for shipping (by default "
        "shipping is the seller's, free of commission)",
    )


class SellerSignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seller_signup: StrictBool = Field(
        description="true: anyone may sign up as a seller (and then ask to be approved); "
        "false: only a marketplace admin makes seller users"
    )


class ShippingCommissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    commission_on_shipping: StrictBool


class TaxRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. DE")
    region: str | None = Field(
        default=None,
        max_length=6,
        description="an ISO 3166-2 subdivision of the country, e.g. US-CA (or CA); none: all",
    )
    category: str | None = Field(
        default=None, max_length=100, description="a product category; none: every category"
    )
    rate_bps: StrictInt = Field(ge=0, le=10_000, description="the rate, basis points")
    name: str = Field(min_length=1, max_length=100, description="e.g. VAT, Sales tax")


class TaxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prices_include_tax: StrictBool = Field(
        description="whether the prices sellers set include tax (true) or tax is added (false)"
    )
    rates: list[TaxRateIn] = Field(max_length=1000)


class TaxRateOut(BaseModel):
    country: str
    region: str | None
    category: str | None
    rate_bps: int
    name: str


class TaxOut(BaseModel):
    prices_include_tax: bool
    rates: list[TaxRateOut]


class DisputePolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fee_payer: Literal["seller", "platform"] = Field(
        description="who bears the fee of a lost dispute: the disputed sellers, pro rata to "
        "their shares, or the platform"
    )


class PayoutScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval: Literal["daily", "weekly", "monthly"]
    day: StrictInt | None = Field(
        default=None,
        description="weekly: 1 (Monday) to 7; monthly: 1 to 28; none for daily (UTC)",
    )


class PayoutScheduleOut(BaseModel):
    interval: str
    day: int | None
    last_period: str | None = Field(description="the last period paid on schedule")


class Tenant(WithId):
    id_was = "tenant_id"
    tenant_id: str = Field(description="the same as id (an alias kept until v2)")
    name: str
    currency: str
    commission_bps: int
    escrow_hold_days: int
    product_moderation: str
    hold_timeout_s: int
    min_payout: MoneyOut
    payout_schedule: PayoutScheduleOut | None = None
    dispute_fee_payer: str
    return_window_days: int
    seller_signup: bool
    commission_on_shipping: bool
    created_at: datetime


class TenantPage(BaseModel):
    items: list[Tenant]
    next_cursor: str | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=8, max_length=256)
    roles: list[Role] = Field(min_length=1)


class User(WithId):
    id_was = "user_id"
    user_id: str = Field(description="the same as id (an alias kept until v2)")
    tenant_id: str
    email: str
    roles: list[str]
    created_at: datetime


class UserPage(BaseModel):
    items: list[User]
    next_cursor: str | None


def _require_visible(scope: Scope, tenant_id: UUID) -> None:
    # Another tenant's id answers exactly as an unknown one does.
    if tenant_id != PLATFORM_TENANT_ID and not scope.allows(tenant_id):
        raise Problem(404, f"tenant {tenant_id} not found")


@router.post("", status_code=201, response_model=IdResponse)
def create_tenant(
    body: TenantCreate,
    identity: IdentityDep,
    ctx: Ctx,
    response: Response,
    _: Annotated[Principal, Depends(Allowed("tenants:create"))],
) -> dict[str, str]:
    """Creates a marketplace tenant with its currency, commission, escrow and dispute
    settings."""
    fields = body.model_dump(exclude={"min_payout"})
    minimum = body.min_payout.money() if body.min_payout else None
    result = identity.register_tenant(ctx, **fields, min_payout=minimum)
    return commanded(response, result)


@router.get("", response_model=TenantPage, dependencies=[Depends(ReadAfter("identity"))])
def list_tenants(
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("tenants:read"))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Lists the tenants the caller may see, oldest first."""
    page = identity_queries.tenants(scope, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{tenant_id}", response_model=Tenant, dependencies=[Depends(ReadAfter("identity"))])
def get_tenant(
    tenant_id: UUID,
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("tenants:read"))],
) -> dict[str, Any]:
    """One tenant and its settings."""
    tenant = identity_queries.tenant(scope, str(tenant_id))
    if tenant is None:
        raise Problem(404, f"tenant {tenant_id} not found")
    return tenant


@router.post("/{tenant_id}/users", status_code=201, response_model=IdResponse)
def create_user(
    tenant_id: UUID,
    body: UserCreate,
    identity: IdentityDep,
    scope: Scope,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("users:create"))],
) -> dict[str, str]:
    """Adds a user with roles to a tenant. A marketplace admin may add buyers, sellers and
    marketplace admins to its own tenant; only a super admin grants cross-tenant roles."""
    _require_visible(scope, tenant_id)
    if tenant_id == PLATFORM_TENANT_ID and Role.SUPER_ADMIN.value not in principal.roles:
        raise Problem(404, f"tenant {tenant_id} not found")
    result = identity.register_user(
        ctx,
        tenant_id=tenant_id,
        email=body.email,
        password=body.password,
        roles=[r.value for r in body.roles],
        granter_roles=principal.roles,
    )
    return commanded(response, result)


class CategoryCommissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    commission_bps: int | None = Field(ge=0, le=10_000, description="null removes the rule")


@router.put("/{tenant_id}/commission/categories/{category}", response_model=IdResponse)
def set_category_commission(
    tenant_id: UUID,
    category: Annotated[str, Path(min_length=1, max_length=100)],
    body: CategoryCommissionIn,
    identity: IdentityDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("commission:set"))],
) -> dict[str, str]:
    """Sets the commission rate for one category of this tenant's products. It overrides the
    seller's and the tenant's rates; a product's own rate overrides it."""
    result = identity.set_category_commission(
        ctx, tenant_id, confinement(principal), category, body.commission_bps
    )
    return commanded(response, result)


@router.put("/{tenant_id}/payout-minimum", response_model=IdResponse)
def set_minimum_payout(
    tenant_id: UUID,
    body: AmountIn,
    identity: IdentityDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("payouts:configure"))],
) -> dict[str, str]:
    """Sets the smallest balance a payout run pays out to a seller of this tenant."""
    result = identity.set_minimum_payout(ctx, tenant_id, confinement(principal), body.money())
    return commanded(response, result)


@router.put("/{tenant_id}/dispute-policy", response_model=IdResponse)
def set_dispute_policy(
    tenant_id: UUID,
    body: DisputePolicyIn,
    identity: IdentityDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("disputes:configure"))],
) -> dict[str, str]:
    """Says who bears the fee of a dispute lost from now on: the sellers whose seller orders
    the dispute held (each its share), or the platform. The disputed amount itself is always
    the sellers', less the commission, which the platform gives back."""
    result = identity.set_dispute_policy(ctx, tenant_id, confinement(principal), body.fee_payer)
    return commanded(response, result)


@router.put("/{tenant_id}/seller-signup", response_model=IdResponse)
def set_seller_signup(
    tenant_id: UUID,
    body: SellerSignupIn,
    identity: IdentityDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("tenants:seller_signup"))],
) -> dict[str, str]:
    """Opens or closes seller sign-up: whether `POST /v1/auth/signup` with role `seller` makes
    a seller user (403 while closed). Sellers already registered stay as they are."""
    result = identity.set_seller_signup(ctx, tenant_id, confinement(principal), body.seller_signup)
    return commanded(response, result)


@router.put("/{tenant_id}/shipping-commission", response_model=IdResponse)
def set_commission_on_shipping(
    tenant_id: UUID,
    body: ShippingCommissionIn,
    identity: IdentityDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("tenants:shipping_commission"))],
) -> dict[str, str]:
    """Whether commission is taken on what buyers pay for shipping, at each seller's rate
    (without a product's or category's own). By default shipping is the seller's, free of
    commission. Orders placed before keep what they were placed with."""
    result = identity.set_commission_on_shipping(
        ctx, tenant_id, confinement(principal), body.commission_on_shipping
    )
    return commanded(response, result)


@router.put("/{tenant_id}/tax", response_model=IdResponse)
def set_tax(
    tenant_id: UUID,
    body: TaxIn,
    identity: IdentityDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("tax:configure"))],
) -> dict[str, str]:
    """Replaces the marketplace's tax rates. For a line, the most specific rate for the
    shipping address and the product's category applies (category and region, then category,
    then region, then country; none: no tax). Orders placed before keep their tax."""
    table = TaxTable.parse(body.prices_include_tax, [r.model_dump() for r in body.rates])
    result = identity.set_tax(ctx, tenant_id, confinement(principal), table)
    return commanded(response, result)


@router.get(
    "/{tenant_id}/tax", response_model=TaxOut, dependencies=[Depends(ReadAfter("identity"))]
)
def get_tax(
    tenant_id: UUID,
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("tax:read"))],
) -> dict[str, Any]:
    """The marketplace's tax rates, and whether its prices include tax."""
    tax = identity_queries.tax(scope, str(tenant_id))
    if tax is None:
        raise Problem(404, f"tenant {tenant_id} not found")
    return tax


@router.put("/{tenant_id}/payout-schedule", response_model=IdResponse)
def set_payout_schedule(
    tenant_id: UUID,
    body: PayoutScheduleIn,
    identity: IdentityDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("payouts:schedule"))],
) -> dict[str, str]:
    """Has the scheduler pay this tenant's sellers every day, every week on a weekday or every
    month on a day (UTC), once per period (the period names the payout run, so several
    schedulers, or one restarted mid-run, still pay each seller once). Replaces any schedule
    before it; payouts can still be run by hand as well."""
    schedule = PayoutSchedule(body.interval, body.day)
    result = identity.set_payout_schedule(ctx, tenant_id, confinement(principal), schedule)
    return commanded(response, result)


@router.get(
    "/{tenant_id}/users", response_model=UserPage, dependencies=[Depends(ReadAfter("identity"))]
)
def list_users(
    tenant_id: UUID,
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("users:read"))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Lists a tenant's users, oldest first."""
    _require_visible(scope, tenant_id)
    page = identity_queries.users(scope.narrowed_to(tenant_id), limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}
