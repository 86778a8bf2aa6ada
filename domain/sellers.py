"""Sellers: the vendors of a marketplace, onboarded and moderated by its marketplace admins."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from domain.names import nfc


class SellerError(DomainError):
    """Base of the sellers context's errors."""


class SellerNotFound(SellerError, NotFound):
    title = "Seller not found"


class SellerAlreadyExists(SellerError, Conflict):
    title = "Seller already exists"


class WrongSellerStep(SellerError, Conflict):
    title = "Wrong lifecycle step"


class SellerNotApproved(SellerError, Conflict):
    title = "Seller not approved"


class SellerSuspended(SellerError, NotAllowed):
    title = "Seller suspended"


class InvalidSeller(SellerError, Invalid):
    title = "Invalid seller"


class SellerStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PAYOUT_ACCOUNT = re.compile(r"^[A-Za-z0-9_-]{3,255}$")


@dataclass(frozen=True)
class Subscription:
    """The terms of a plan as the seller subscribed to them, and how the current month's
    segment of it was charged (see domain/plans.py)."""

    plan_id: UUID
    name: str
    fee_minor: int
    currency: str
    product_limit: int | None
    discount_bps: int
    period: str = ""
    started_at: datetime | None = None
    charged_minor: int = 0


def seller_id_for(tenant_id: UUID, user_id: UUID) -> UUID:
    """A seller user acts for exactly one seller, whose id derives from the user's."""
    return uuid5(NAMESPACE_URL, f"velora:seller:{tenant_id}:{user_id}")


class Seller(TenantAggregate):
    class Registered(TenantAggregate.Created):
        # A sole trader's shop often carries their own name: sealed with the user's key.
        personal: ClassVar[Mapping[str, str]] = {"display_name": "user_id"}
        user_id: UUID
        display_name: str
        country: str

    class Approved(TenantAggregate.Event):
        pass

    class Rejected(TenantAggregate.Event):
        pass

    class Suspended(TenantAggregate.Event):
        pass

    class Reinstated(TenantAggregate.Event):
        pass

    class CommissionSet(TenantAggregate.Event):
        commission_bps: int | None

    class PayoutAccountSet(TenantAggregate.Event):
        account_id: str

    class PlanStarted(TenantAggregate.Event):
        """Subscribed to a plan (or moved to it from another), charged for the rest of the month
        and credited for what the old plan had left."""

        plan_id: UUID
        name: str
        fee_minor: int
        currency: str
        product_limit: int | None
        discount_bps: int
        period: str
        started_at: datetime
        charged_minor: int
        credited_minor: int
        segment: int

    class PlanRenewed(TenantAggregate.Event):
        period: str
        started_at: datetime
        charged_minor: int
        segment: int

    class PlanEnded(TenantAggregate.Event):
        ended_at: datetime
        credited_minor: int

    class ListingCounted(TenantAggregate.Event):
        """A product listed against the plan's product limit. Recorded with the listing, so two
        listings at once by one seller are counted one after the other, never both as the last."""

        product_id: UUID

    @staticmethod
    def create_id(tenant_id: UUID, user_id: UUID) -> UUID:
        return seller_id_for(tenant_id, user_id)

    @event(Registered)
    def __init__(self, tenant_id: UUID, user_id: UUID, display_name: str, country: str) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.display_name = display_name
        self.country = country
        self.status = SellerStatus.PENDING.value
        self.commission_bps: int | None = None
        self.payout_account: str | None = None
        self.plan: Subscription | None = None
        self.plan_segment = 0

    @classmethod
    def register(
        cls,
        tenant_id: UUID,
        user_id: UUID,
        display_name: str,
        country: str,
        *,
        acting_for: UUID | None = None,
    ) -> Seller:
        """A new pending seller of the tenant. Its id derives from the user it acts for, or from
        `acting_for` (an organisation that sells on the tenant, domain/organisations.py)."""
        display_name = nfc(display_name.strip())
        if not 1 <= len(display_name) <= 200:
            raise InvalidSeller("display_name must have 1 to 200 characters")
        if not _COUNTRY.match(country):
            raise InvalidSeller("country must be an ISO 3166 alpha-2 code like 'DE'")
        seller_id = seller_id_for(tenant_id, acting_for or user_id)
        return cls._create(
            cls.Registered,
            id=seller_id,
            tenant_id=tenant_id,
            user_id=user_id,
            display_name=display_name,
            country=country,
        )

    def _require(self, command: str, *allowed: SellerStatus) -> None:
        if self.status not in allowed:
            raise WrongSellerStep(f"cannot {command} a seller that is {self.status}")

    def approve(self) -> None:
        """Approves a pending seller, or reinstates a suspended one."""
        self._require("approve", SellerStatus.PENDING, SellerStatus.SUSPENDED)
        if self.status == SellerStatus.PENDING:
            self._approved()
        else:
            self._reinstated()

    def reject(self) -> None:
        self._require("reject", SellerStatus.PENDING)
        self._rejected()

    def suspend(self) -> None:
        self._require("suspend", SellerStatus.APPROVED)
        self._suspended()

    def set_commission(self, commission_bps: int | None) -> None:
        if commission_bps is not None and not 0 <= commission_bps <= 10_000:
            raise InvalidSeller("commission_bps must be between 0 and 10000")
        self._commission_set(commission_bps=commission_bps)

    def set_payout_account(self, account_id: str) -> None:
        """Names the seller's account at the payment provider (a Stripe Connect `acct_...`)."""
        account_id = account_id.strip()
        if not _PAYOUT_ACCOUNT.match(account_id):
            raise InvalidSeller("account_id must be 3 to 255 letters, digits, '_' or '-'")
        if account_id != self.payout_account:
            self._payout_account_set(account_id=account_id)

    @property
    def commission_discount_bps(self) -> int:
        return self.plan.discount_bps if self.plan is not None else 0

    def start_plan(
        self, terms: Subscription, period: str, at: datetime, charged: int, credited: int
    ) -> None:
        self._plan_started(
            plan_id=terms.plan_id,
            name=terms.name,
            fee_minor=terms.fee_minor,
            currency=terms.currency,
            product_limit=terms.product_limit,
            discount_bps=terms.discount_bps,
            period=period,
            started_at=at,
            charged_minor=charged,
            credited_minor=credited,
            segment=self.plan_segment + 1,
        )

    def renew_plan(self, period: str, at: datetime, charged: int) -> None:
        self._plan_renewed(
            period=period, started_at=at, charged_minor=charged, segment=self.plan_segment + 1
        )

    def end_plan(self, at: datetime, credited: int) -> None:
        self._plan_ended(ended_at=at, credited_minor=credited)

    def count_listing(self, product_id: UUID) -> None:
        self._listing_counted(product_id=product_id)

    @event(PlanStarted)
    def _plan_started(
        self,
        plan_id: UUID,
        name: str,
        fee_minor: int,
        currency: str,
        product_limit: int | None,
        discount_bps: int,
        period: str,
        started_at: datetime,
        charged_minor: int,
        credited_minor: int,
        segment: int,
    ) -> None:
        self.plan = Subscription(
            plan_id,
            name,
            fee_minor,
            currency,
            product_limit,
            discount_bps,
            period,
            started_at,
            charged_minor,
        )
        self.plan_segment = segment

    @event(PlanRenewed)
    def _plan_renewed(
        self, period: str, started_at: datetime, charged_minor: int, segment: int
    ) -> None:
        assert self.plan is not None
        self.plan = replace(
            self.plan, period=period, started_at=started_at, charged_minor=charged_minor
        )
        self.plan_segment = segment

    @event(PlanEnded)
    def _plan_ended(self, ended_at: datetime, credited_minor: int) -> None:
        self.plan = None

    @event(ListingCounted)
    def _listing_counted(self, product_id: UUID) -> None:
        pass

    @event(PayoutAccountSet)
    def _payout_account_set(self, account_id: str) -> None:
        self.payout_account = account_id

    @property
    def can_sell(self) -> bool:
        return self.status == SellerStatus.APPROVED

    def require_selling(self) -> None:
        if not self.can_sell:
            raise SellerNotApproved(f"seller {self.id} is {self.status}, not approved")

    def require_acting(self) -> None:
        """A seller whose marketplace suspended or rejected it no longer acts on its products,
        orders and refunds: from the moment that is recorded, whatever its users' tokens say."""
        if self.status in (SellerStatus.SUSPENDED, SellerStatus.REJECTED):
            raise SellerSuspended(
                f"seller {self.id} is {self.status}: it cannot act until reinstated"
            )

    @event(Approved)
    def _approved(self) -> None:
        self.status = SellerStatus.APPROVED.value

    @event(Reinstated)
    def _reinstated(self) -> None:
        self.status = SellerStatus.APPROVED.value

    @event(Rejected)
    def _rejected(self) -> None:
        self.status = SellerStatus.REJECTED.value

    @event(Suspended)
    def _suspended(self) -> None:
        self.status = SellerStatus.SUSPENDED.value

    @event(CommissionSet)
    def _commission_set(self, commission_bps: int | None) -> None:
        self.commission_bps = commission_bps
