"""Request and response shapes shared by several routers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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
