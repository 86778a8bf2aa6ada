"""Organisations: one business that sells on several marketplaces (docs/api-seller-pro.md).

An organisation belongs to the platform (tenant zero), as its owner, a `seller_pro` user, does;
one user owns one organisation, whose id derives from the user's. It joins a marketplace by
applying to it: the organisation is then that tenant's seller, with the id `seller_id_for(tenant,
organisation)`, and the tenant's marketplace admins approve, reject or suspend it as any seller.
Money stays with the tenant's seller: an organisation holds no balance of its own.

Its events carry tenant zero; the marketplaces it joined are named `marketplace_id`, so that no
event's tenant is ever confused with a marketplace it merely names."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import PLATFORM_TENANT_ID, TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.names import nfc
from domain.sellers import seller_id_for


class OrganisationError(DomainError):
    """Base of the organisations context's errors."""


class OrganisationNotFound(OrganisationError, NotFound):
    title = "Organisation not found"


class OrganisationExists(OrganisationError, Conflict):
    title = "Organisation already exists"


class AlreadyApplied(OrganisationError, Conflict):
    title = "Already applied"


class MarketplaceNotJoined(OrganisationError, NotFound):
    title = "Marketplace not joined"


class InvalidOrganisation(OrganisationError, Invalid):
    title = "Invalid organisation"


def organisation_id_for(owner_id: UUID) -> UUID:
    """A seller_pro user owns exactly one organisation, whose id derives from the user's."""
    return uuid5(NAMESPACE_URL, f"velora:organisation:{owner_id}")


class Organisation(TenantAggregate):
    class Founded(TenantAggregate.Created):
        owner_id: UUID
        name: str

    class MarketplaceJoined(TenantAggregate.Event):
        """Applied to sell on a marketplace: its seller there is `seller_id`, pending."""

        marketplace_id: UUID
        seller_id: UUID

    @staticmethod
    def create_id(owner_id: UUID) -> UUID:
        return organisation_id_for(owner_id)

    @event(Founded)
    def __init__(self, tenant_id: UUID, owner_id: UUID, name: str) -> None:
        self.tenant_id = tenant_id
        self.owner_id = owner_id
        self.name = name
        self.sellers: dict[str, str] = {}  # marketplace id -> the organisation's seller there

    @classmethod
    def found(cls, owner_id: UUID, name: str) -> Organisation:
        name = nfc(name.strip())
        if not 1 <= len(name) <= 200:
            raise InvalidOrganisation("name must have 1 to 200 characters")
        return cls(tenant_id=PLATFORM_TENANT_ID, owner_id=owner_id, name=name)

    def join(self, marketplace_id: UUID) -> UUID:
        """Applies to sell on a marketplace; returns the id of its seller there."""
        if str(marketplace_id) in self.sellers:
            raise AlreadyApplied(f"the organisation has applied to marketplace {marketplace_id}")
        seller_id = seller_id_for(marketplace_id, self.id)
        self._joined(marketplace_id=marketplace_id, seller_id=seller_id)
        return seller_id

    def seller_in(self, marketplace_id: UUID) -> UUID:
        """Its seller in a marketplace it joined (MarketplaceNotJoined, a 404, otherwise)."""
        seller = self.sellers.get(str(marketplace_id))
        if seller is None:
            raise MarketplaceNotJoined(f"the organisation has not joined {marketplace_id}")
        return UUID(seller)

    @event(MarketplaceJoined)
    def _joined(self, marketplace_id: UUID, seller_id: UUID) -> None:
        self.sellers = {**self.sellers, str(marketplace_id): str(seller_id)}
