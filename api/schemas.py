"""Request and response shapes shared by several routers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.money import Money


class AmountIn(BaseModel):
    """Money that may be zero (limits and thresholds, not prices)."""

    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=0, le=10**12, description="integer minor units, e.g. cents", strict=True)
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    def money(self) -> Money:
        return Money(self.amount, self.currency)


class MoneyIn(AmountIn):
    """A positive amount of money: a price, a refund."""

    amount: int = Field(ge=1, le=10**12, description="integer minor units, e.g. cents", strict=True)


class MoneyOut(BaseModel):
    amount: int
    currency: str


class Address(BaseModel):
    """A shipping address, given at checkout or saved in the buyer's address book."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    region: str = Field(default="", max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2, e.g. DE")


class ImageOut(BaseModel):
    id: str
    url: str = Field(description="the image, cleaned, at full size: a signed URL that expires")
    width: int
    height: int
    sizes: dict[str, str] = Field(description="signed URLs by size: original, large, thumb")


class WithId(BaseModel):
    """An object that had its id under another name (`tenant_id`, `seller_id`, `user_id`) and
    now has `id` as every other object does; the old name stays beside it, an alias, until v2.
    A subclass names the old field in `id_was`."""

    id_was: ClassVar[str]
    id: str = Field(description="its id")

    @model_validator(mode="before")
    @classmethod
    def _id(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "id" not in data and cls.id_was in data:
            return {**data, "id": data[cls.id_was]}
        return data
