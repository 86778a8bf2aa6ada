"""A product's options and variants (domain/variants.py): added, edited and retired by its seller,
each variant with its own stock. Buyers see them on the product (GET /v1/products/{id})."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import Allowed, CatalogDep, Ctx, acting_seller_id, commanded, no_content
from api.schemas import MoneyIn, MoneyOut
from api.security import Principal
from domain.money import Money
from domain.variants import KEEP, Keep, Variant

router = APIRouter(prefix="/v1/products", tags=["variants"])

Seller = Annotated[Principal, Depends(Allowed("products:edit"))]


class OptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50, examples=["Size"])
    values: list[str] = Field(min_length=1, max_length=50, examples=[["S", "M", "L"]])


class ProductOptionOut(BaseModel):
    name: str
    values: list[str]


class OptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    options: list[OptionIn] = Field(min_length=1, max_length=5)


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64)
    options: dict[str, str] = Field(
        max_length=5, description="one value for each of the product's options"
    )
    price: MoneyIn | None = Field(default=None, description="absent: the product's price")

    def asked(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "options": self.options,
            "price": self.price.money() if self.price else None,
        }


class VariantPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str | None = Field(default=None, min_length=1, max_length=64)
    price: MoneyIn | None = Field(
        default=None, description="its own price; null: the product's from now on"
    )

    @model_validator(mode="after")
    def _something(self) -> VariantPatch:
        if not self.model_fields_set:
            raise ValueError("send sku, price, or both")
        return self


class StockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warehouse: str = Field(min_length=1, max_length=64)
    on_hand: int = Field(ge=0, le=10**9, strict=True)


class VariantCreated(BaseModel):
    id: str
    sku: str
    options: dict[str, str]


class VariantOut(VariantCreated):
    price: MoneyOut
    available: int


def created_view(variant: Variant) -> dict[str, Any]:
    return {"id": str(variant.id), "sku": variant.sku, "options": dict(variant.options)}


@router.put("/{product_id}/options", response_model=dict[str, str])
def set_options(
    product_id: UUID,
    body: OptionsIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, str]:
    """Names the options of the caller's own product, which its variants are chosen by. Once
    it has variants, its options keep their names and may only gain values (422 otherwise)."""
    result = catalog.set_options(
        ctx, product_id, acting_seller_id(principal), [o.model_dump() for o in body.options]
    )
    return commanded(response, result)


@router.post("/{product_id}/variants", status_code=201, response_model=VariantCreated)
def add_variant(
    product_id: UUID,
    body: VariantIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, Any]:
    """Sells one more combination of the product's option values, with its own sku, price
    (default: the product's) and stock (none until set). 422 for a combination a variant on
    sale has, or a value not among its option's; 409 for a sku the seller uses already. Once
    a product has variants, its own id no longer names one."""
    asked = body.asked()
    result = catalog.add_variant(
        ctx,
        product_id,
        acting_seller_id(principal),
        sku=asked["sku"],
        options=asked["options"],
        price=asked["price"],
    )
    return {
        **commanded(response, result),
        "sku": body.sku.strip(),
        "options": body.options,
    }


@router.patch("/{product_id}/variants/{variant_id}", response_model=VariantCreated)
def edit_variant(
    product_id: UUID,
    variant_id: UUID,
    body: VariantPatch,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, Any]:
    """A new sku, or a price of its own (null: the product's from now on)."""
    price: Money | Keep | None = KEEP
    if "price" in body.model_fields_set:
        price = body.price.money() if body.price else None
    result, variant = catalog.edit_variant(
        ctx, product_id, variant_id, acting_seller_id(principal), sku=body.sku, price=price
    )
    commanded(response, result)
    return created_view(variant)


@router.delete("/{product_id}/variants/{variant_id}", status_code=204)
def retire_variant(
    product_id: UUID, variant_id: UUID, catalog: CatalogDep, ctx: Ctx, principal: Seller
) -> Response:
    """Retires a variant: it can no longer be bought, and orders that bought it keep it."""
    return no_content(
        catalog.retire_variant(ctx, product_id, variant_id, acting_seller_id(principal))
    )


@router.post("/{product_id}/variants/{variant_id}/stock", response_model=dict[str, int])
def set_variant_stock(
    product_id: UUID,
    variant_id: UUID,
    body: StockIn,
    catalog: CatalogDep,
    ctx: Ctx,
    response: Response,
    principal: Seller,
) -> dict[str, int]:
    """Sets the on-hand stock of one variant of the caller's own product in one warehouse,
    as `POST /v1/products/{id}/stock` does for a product without variants."""
    result, available = catalog.set_variant_stock(
        ctx, product_id, variant_id, acting_seller_id(principal), body.warehouse, body.on_hand
    )
    commanded(response, result)
    return {"available": available}
