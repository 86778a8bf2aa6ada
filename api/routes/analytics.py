"""Analytics dashboards: a seller's own, and its marketplace's, as JSON or CSV
(projections/analytics/queries.py says what each figure counts)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api.deps import (
    Allowed,
    AnalyticsQueriesDep,
    CatalogQueriesDep,
    IdentityQueriesDep,
    ReadAfter,
    Scope,
    visible_seller,
)
from api.policy import crosses_tenants
from api.problems import Problem
from api.schemas import MoneyOut
from api.security import Principal
from domain.times import as_text
from projections.analytics.queries import Range

router = APIRouter(tags=["analytics"])
MAX_RANGE_DAYS = 731
DEFAULT_DAYS = 30
From = Annotated[
    date | None,
    Query(alias="from", description="first day, UTC (inclusive); default 29 days before `to`"),
]
To = Annotated[
    date | None, Query(alias="to", description="last day, UTC (inclusive); default today")
]
Interval = Annotated[str, Query(pattern="^(day|week|month)$", description="one series point per")]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


class Conversion(BaseModel):
    carts: int = Field(description="carts that held the seller's products (each counted once)")
    orders: int = Field(description="seller orders placed")
    rate_bps: int | None = Field(description="orders per cart in basis points; null: no carts")


class SellerFigures(BaseModel):
    gmv: MoneyOut
    orders: int
    units: int
    average_order_value: MoneyOut
    refunds: MoneyOut
    commission: MoneyOut
    net: MoneyOut = Field(description="gmv - refunds - commission: what the seller earned")


class SellerTotals(SellerFigures):
    conversion: Conversion


class SellerPoint(SellerFigures):
    start: date


class VariantSold(BaseModel):
    variant_id: str = Field(description="a product without variants sold as itself, its own id")
    sku: str
    units: int
    gmv: MoneyOut


class TopProduct(BaseModel):
    product_id: str
    seller_id: str
    title: str
    units: int
    gmv: MoneyOut
    variants: list[VariantSold] = Field(description="its sales in the range by variant")


class SellerAnalytics(BaseModel):
    currency: str
    start: date
    end: date
    interval: str
    totals: SellerTotals
    series: list[SellerPoint]
    top_products: list[TopProduct]


class MarketplaceTotals(BaseModel):
    gmv: MoneyOut
    commission: MoneyOut
    refunds: MoneyOut
    take_rate_bps: int | None = Field(description="commission per GMV in basis points")
    orders: int = Field(description="buyers' orders paid")
    active_buyers: int = Field(description="buyers with a paid order in the range")
    new_sellers: int = Field(description="sellers registered in the range")


class MarketplacePoint(BaseModel):
    start: date
    gmv: MoneyOut
    commission: MoneyOut
    refunds: MoneyOut
    orders: int


class TopSeller(BaseModel):
    seller_id: str
    display_name: str
    orders: int
    gmv: MoneyOut
    commission: MoneyOut


class MarketplaceAnalytics(BaseModel):
    currency: str
    start: date
    end: date
    interval: str
    totals: MarketplaceTotals
    series: list[MarketplacePoint]
    top_sellers: list[TopSeller]
    top_products: list[TopProduct]


def _range(start: date | None, end: date | None, interval: str) -> Range:
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start or (end - start).days >= MAX_RANGE_DAYS:
        raise Problem(
            422,
            f"`to` must be on or after `from`, and the range at most {MAX_RANGE_DAYS} days",
            errors=[{"loc": ["query", "to"], "msg": "invalid range"}],
        )
    return Range(start, end, interval)


def _answer(body: dict[str, Any], period: Range, format: str, name: str) -> Any:
    """The dashboard as JSON, or its series as CSV (one row per point, amounts in minor
    units, the totals as a last row)."""
    body |= {"start": period.start, "end": period.end, "interval": period.interval}
    if format == "json":
        return body
    out = io.StringIO()
    points = [*body["series"], {"start": "total", **body["totals"]}]
    columns = [k for k in body["series"][0] if k != "start"] if body["series"] else []
    writer = csv.writer(out)
    writer.writerow(["start", "currency", *columns])
    for point in points:
        writer.writerow(
            [as_text(point["start"]), body["currency"]]
            + [v["amount"] if isinstance(v, dict) else v for v in (point[c] for c in columns)]
        )
    filename = f"{name}-{period.start}-{period.end}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@router.get(
    "/v1/sellers/{seller_id}/analytics",
    response_model=SellerAnalytics,
    responses={200: {"content": {"text/csv": {}}}},
    dependencies=[Depends(ReadAfter("analytics", "carts", "sellers"))],
)
def seller_analytics(
    seller_id: UUID,
    analytics: AnalyticsQueriesDep,
    catalog_queries: CatalogQueriesDep,
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("analytics:seller"))],
    start: From = None,
    end: To = None,
    interval: Interval = "day",
    format: Format = "json",
) -> Any:
    """A seller's dashboard over whole UTC days: GMV (paid seller orders), orders, units,
    average order value, refunds, commission and net per day, week or month and in total; its
    ten best products by GMV; and its cart-to-order conversion (seller orders placed per cart
    that held its products). For the seller itself and its marketplace's admins."""
    period = _range(start, end, interval)
    seller = visible_seller(catalog_queries, scope, principal, seller_id)
    tenant = identity_queries.tenant(scope, seller["tenant_id"])
    assert tenant is not None
    within = scope.narrowed_to(seller["tenant_id"])
    body = analytics.seller(within, str(seller_id), tenant["currency"], period)
    return _answer(body, period, format, "seller-analytics")


@router.get(
    "/v1/analytics/marketplace",
    response_model=MarketplaceAnalytics,
    responses={200: {"content": {"text/csv": {}}}},
    dependencies=[Depends(ReadAfter("analytics", "sellers"))],
)
def marketplace_analytics(
    analytics: AnalyticsQueriesDep,
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("analytics:marketplace"))],
    start: From = None,
    end: To = None,
    interval: Interval = "day",
    format: Format = "json",
    tenant_id: Annotated[
        UUID | None, Query(description="which marketplace, for the roles that cross tenants")
    ] = None,
) -> Any:
    """A marketplace's dashboard over whole UTC days: GMV, commission, refunds and orders per
    day, week or month; in total also the take rate (commission per GMV), the buyers with a
    paid order and the sellers registered in the range; its ten best sellers and products by
    GMV."""
    period = _range(start, end, interval)
    if tenant_id is None:
        if crosses_tenants(principal.roles):
            raise Problem(
                422,
                "name the marketplace whose analytics you want",
                errors=[{"loc": ["query", "tenant_id"], "msg": "required for your role"}],
            )
        tenant_id = principal.tenant_id
    tenant = identity_queries.tenant(scope, str(tenant_id))
    if tenant is None:
        raise Problem(404, f"tenant {tenant_id} not found")
    body = analytics.marketplace(scope.narrowed_to(tenant_id), tenant["currency"], period)
    return _answer(body, period, format, "marketplace-analytics")
