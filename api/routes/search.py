"""Product search and suggestions, served by the search index (tantivy or OpenSearch)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import (
    Allowed,
    CatalogQueriesDep,
    Cursor,
    Limit,
    MediaUrlsDep,
    ReadAfter,
    Scope,
    SearchDep,
)
from api.media import MediaUrls
from api.routes.sellers import SellerRatingOut
from api.schemas import ImageOut, MoneyOut
from domain.money import money_json
from projections.search.port import (
    ProductDocument,
    SearchQuery,
    SearchResult,
    Sort,
    option_problem,
    page,
)

router = APIRouter(prefix="/v1/search", tags=["search"])
# Anyone in the tenant and its guests (a publishable key, no token): only products on sale are
# ever in the index, and a hit has only public fields.
Searcher = Depends(Allowed("search:read"))


class RatingOut(BaseModel):
    average: float | None
    count: int


class HitOut(BaseModel):
    id: str
    featured: bool
    tenant_id: str
    seller_id: str
    title: str
    description: str
    category: str
    price: MoneyOut
    available: int
    rating: RatingOut
    images: list[ImageOut]


class BucketOut(BaseModel):
    value: str
    count: int


class PriceBucketOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: MoneyOut | None = Field(serialization_alias="from", description="inclusive")
    to: MoneyOut | None = Field(description="exclusive")
    count: int


class SellerBucketOut(BucketOut):
    rating: SellerRatingOut = Field(description="the seller's rating, from its visible reviews")


class FacetsOut(BaseModel):
    category: list[BucketOut]
    seller_id: list[SellerBucketOut]
    price: list[PriceBucketOut] = Field(
        description="each product counted in every range one of its variants' prices is in"
    )
    options: dict[str, dict[str, int]] = Field(
        description="per option name, per value, how many matching products have a buyable "
        'variant with that value, e.g. `{"Size": {"M": 3, "L": 1}}`; products '
        "without options count under none"
    )


class SearchOut(BaseModel):
    items: list[HitOut]
    total: int
    facets: FacetsOut
    next_cursor: str | None


class SuggestOut(BaseModel):
    suggestions: list[str]


def _hit(d: ProductDocument, media_urls: MediaUrls) -> dict[str, Any]:
    return {
        "id": d.product_id,
        "featured": d.featured,
        "tenant_id": d.tenant_id,
        "seller_id": d.seller_id,
        "title": d.title,
        "description": d.description,
        "category": d.category,
        "price": money_json(d.price_minor, d.currency),
        "available": d.available,
        "rating": {"average": d.rating_avg if d.rating_count else None, "count": d.rating_count},
        "images": media_urls.images(json.loads(d.images)),
    }


def _answer(result: SearchResult, media_urls: MediaUrls, ratings: dict[str, Any]) -> dict[str, Any]:
    f = result.facets
    return {
        "items": [_hit(d, media_urls) for d in result.items],
        "total": result.total,
        "facets": {
            "category": [{"value": b.value, "count": b.count} for b in f.categories],
            "seller_id": [
                {"value": b.value, "count": b.count, "rating": ratings[b.value]} for b in f.sellers
            ],
            "price": [
                {
                    "from_": None if b.from_minor is None else money_json(b.from_minor, b.currency),
                    "to": None if b.to_minor is None else money_json(b.to_minor, b.currency),
                    "count": b.count,
                }
                for b in f.prices
            ],
            "options": {
                name: {b.value: b.count for b in values} for name, values in f.options.items()
            },
        },
        "next_cursor": result.next_cursor,
    }


Price = Annotated[
    int | None,
    Query(
        ge=0,
        le=10**12,
        description="integer minor units of the tenant currency; a product matches when any "
        "of its variants' prices does",
    ),
]
OPTION_PREFIX = "option."


def option_filters(request: Request) -> tuple[tuple[str, str], ...]:
    """The `option.<Name>=<value>` parameters, which no declared parameter can describe: their
    names are the sellers' own. Each bad one is reported where it was given."""
    found, errors = [], []
    for key, value in request.query_params.multi_items():
        if not key.startswith(OPTION_PREFIX):
            continue
        name = key.removeprefix(OPTION_PREFIX)
        problem = option_problem(name, value)
        if problem is None:
            found.append((name, value))
        else:
            errors.append({"type": "value_error", "loc": ("query", key), "msg": problem})
    if errors:
        raise RequestValidationError(errors)
    return tuple(found)


@router.get(
    "/products",
    response_model=SearchOut,
    dependencies=[Searcher, Depends(ReadAfter("search"))],
)
async def search_products(
    request: Request,
    search: SearchDep,
    catalog_queries: CatalogQueriesDep,
    media_urls: MediaUrlsDep,
    scope: Scope,
    q: Annotated[str, Query(max_length=200, description="words to find")] = "",
    category: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    seller_id: UUID | None = None,
    min_price: Price = None,
    max_price: Price = None,
    min_rating: Annotated[float | None, Query(ge=0, le=5)] = None,
    in_stock: bool = False,
    featured: Annotated[bool, Query(description="only products featured now")] = False,
    sort: Annotated[
        Sort, Query(description="`featured`: featured products first, newest first in each")
    ] = "relevance",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Active products of approved sellers in the caller's marketplace. `q` is ranked by BM25 over
    title, category and description and tolerates typos; filters narrow the results; `facets`
    count categories, sellers (each with its rating), price ranges and option values of
    everything that matched. Results are paged to a depth of 10,000.

    **Variants.** A price filter matches a product when any of its variants' prices is in the
    range; `price_asc`/`price_desc` sort by its lowest price, the hit's `price`.

    **Option filters** are query parameters named `option.<Name>`, one per value, e.g.
    `?option.Size=M&option.Colour=Red` (they cannot be declared below: the names are the
    sellers'). Names and values match whatever their case, Unicode composition (NFC) and runs of
    white space. Values of one option are alternatives (`option.Size=M&option.Size=L`: M or L);
    every option named must be matched, all by one variant: Size=M with Colour=Red finds a
    product only if one of its variants is both. At most 10 option parameters naming at most 5
    options; names and values have 1 to 100 characters and no control characters; anything
    else answers 422.
    `facets.options` counts, per option and value, the matching products that have a variant
    with that value (an option's own filter applies to its facet too, as `category`'s does)."""
    query = SearchQuery(
        text=q,
        category=category,
        seller_id=str(seller_id) if seller_id else None,
        min_price_minor=min_price,
        max_price_minor=max_price,
        min_rating=min_rating,
        in_stock=in_stock,
        featured=featured,
        sort=sort,
        limit=limit,
        options=option_filters(request),
    )
    result = await run_in_threadpool(search.search, scope, page(scope, query, cursor))
    sellers = [b.value for b in result.facets.sellers]
    ratings = await run_in_threadpool(catalog_queries.seller_ratings, scope, sellers)
    return _answer(result, media_urls, ratings)


@router.get(
    "/suggest", response_model=SuggestOut, dependencies=[Searcher, Depends(ReadAfter("search"))]
)
async def suggest(
    search: SearchDep,
    scope: Scope,
    q: Annotated[str, Query(min_length=1, max_length=100, description="what was typed so far")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, list[str]]:
    """Completions of what a buyer has typed so far: matching categories first, then product
    titles."""
    found = await run_in_threadpool(search.suggest, scope, q, limit)
    return {"suggestions": found}
