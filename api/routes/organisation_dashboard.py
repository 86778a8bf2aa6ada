"""An organisation's one fulfilment queue and one dashboard (docs/api-seller-pro.md): its seller
orders, balances, payouts and analytics across every marketplace it joined, read-only. To act
on one of them (ship, deliver, returns, refunds) it takes that marketplace's token.

Each route reads through the organisation's reach (projections/organisations/dashboard.py): the
tenants it joined and its seller in each, so it sees its own rows there and no one else's. A
seller_pro reaches only its own organisation, and a tenant it has not joined answers 404, as an
unknown one does."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import Cursor, Limit, OrganisationDashboardDep, ReadAfter, Scope
from api.problems import Problem
from api.routes.analytics import From, SellerFigures, To, _range
from api.routes.orders import SELLER_ORDER_STATUS, SellerOrderOut
from api.routes.organisations import Reader, own_organisation
from api.routes.payouts import PayoutPage
from api.schemas import MoneyOut
from projections.organisations.dashboard import Reach

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])

InMarketplace = Annotated[
    UUID | None,
    Query(description="only this marketplace (tenant); 404 if the organisation has not joined it"),
]


class OrganisationSellerOrderPage(BaseModel):
    items: list[SellerOrderOut] = Field(
        description="newest first, each as `GET /v1/seller-orders/{id}` shows it, with its "
        "`tenant_id`"
    )
    next_cursor: str | None


class MarketplaceBalance(BaseModel):
    tenant_id: str = Field(description="the marketplace")
    seller_id: str = Field(description="the organisation's seller there")
    in_escrow: MoneyOut = Field(description="held in escrow toward the seller, not yet released")
    available: MoneyOut = Field(description="what the next payout run may pay it")
    in_dispute: MoneyOut = Field(
        description="the seller's net that open disputes hold, in escrow or in its reserve"
    )
    paid_out: MoneyOut = Field(description="paid out so far")


class Balances(BaseModel):
    items: list[MarketplaceBalance] = Field(
        description="one per marketplace joined, in that marketplace's currency, in the order "
        "the organisation joined them"
    )


class MarketplaceFigures(BaseModel):
    tenant_id: str = Field(description="the marketplace")
    seller_id: str = Field(description="the organisation's seller there")
    currency: str = Field(description="the marketplace's; every amount of `totals` is in it")
    totals: SellerFigures = Field(
        description="as `GET /v1/sellers/{id}/analytics` totals the seller's range"
    )


class CurrencyTotals(SellerFigures):
    currency: str = Field(description="every amount here is in it")


class OrganisationAnalytics(BaseModel):
    start: date = Field(description="first day, UTC (inclusive)")
    end: date = Field(description="last day, UTC (inclusive)")
    marketplaces: list[MarketplaceFigures] = Field(
        description="one per marketplace joined, in the order the organisation joined them"
    )
    totals: list[CurrencyTotals] = Field(
        description="the marketplaces' figures added up per currency (by currency code), never "
        "across currencies"
    )


def organisation_reach(
    organisation_id: UUID,
    scope: Scope,
    principal: Reader,
    queries: OrganisationDashboardDep,
) -> Reach:
    """The path's organisation's reach, for its seller_pro or the platform's super admin; 404
    for another's or an unknown one."""
    found = queries.reach(scope, str(own_organisation(principal, organisation_id)))
    if found is None:
        raise Problem(404, f"organisation {organisation_id} not found")
    return found


OrganisationReach = Annotated[Reach, Depends(organisation_reach)]
Dashboard = OrganisationDashboardDep


def within(reach: Reach, tenant_id: UUID | None) -> Reach:
    """The reach in the one marketplace a query names, or all of it."""
    if tenant_id is None:
        return reach
    narrowed = reach.narrowed_to(str(tenant_id))
    if narrowed is None:
        raise Problem(404, f"tenant {tenant_id} not found")
    return narrowed


@router.get(
    "/{organisation_id}/seller-orders",
    response_model=OrganisationSellerOrderPage,
    responses={404: {}},
    dependencies=[Depends(ReadAfter("organisations", "orders"))],
)
def organisation_seller_orders(
    reach: OrganisationReach,
    queries: Dashboard,
    status: Annotated[str | None, Query(pattern=SELLER_ORDER_STATUS)] = None,
    tenant_id: InMarketplace = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The organisation's fulfilment queue: its seller orders in every marketplace it joined,
    newest first, each as `GET /v1/seller-orders/{id}` shows it (with its `tenant_id`). Act on
    one (ship, deliver, returns, refunds) with that marketplace's token."""
    page = queries.seller_orders(
        within(reach, tenant_id), status=status, limit=limit, cursor=cursor
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/{organisation_id}/balances",
    response_model=Balances,
    responses={404: {}},
    dependencies=[Depends(ReadAfter("organisations", "identity", "ledger", "orders"))],
)
def organisation_balances(reach: OrganisationReach, queries: Dashboard) -> dict[str, Any]:
    """Its balance in each marketplace it joined, in that marketplace's currency, as
    `GET /v1/sellers/{id}/balance` answers its seller there: money never moves between
    marketplaces, so balances are never added up."""
    return {"items": queries.balances(reach)}


@router.get(
    "/{organisation_id}/payouts",
    response_model=PayoutPage,
    responses={404: {}},
    dependencies=[Depends(ReadAfter("organisations", "ledger"))],
)
def organisation_payouts(
    reach: OrganisationReach,
    queries: Dashboard,
    tenant_id: InMarketplace = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Its payouts in every marketplace it joined, oldest first as `GET /v1/payouts` lists
    them, each with its `tenant_id` and status."""
    page = queries.payouts(within(reach, tenant_id), limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/{organisation_id}/analytics",
    response_model=OrganisationAnalytics,
    responses={404: {}},
    dependencies=[Depends(ReadAfter("organisations", "identity", "analytics", "carts"))],
)
def organisation_analytics(
    reach: OrganisationReach,
    queries: Dashboard,
    start: From = None,
    end: To = None,
) -> dict[str, Any]:
    """Its sales over whole UTC days: per marketplace it joined, its seller's GMV, orders,
    units, average order value, refunds, commission and net there (in that marketplace's
    currency, as `GET /v1/sellers/{id}/analytics` counts them); and the same added up per
    currency, never across currencies."""
    period = _range(start, end, "day")
    return {"start": period.start, "end": period.end} | queries.analytics(
        reach, period.start, period.end
    )
