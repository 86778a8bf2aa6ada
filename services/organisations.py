"""The organisations application: a Seller Pro business founds its organisation and applies to
sell on marketplaces, becoming each one's seller (domain/organisations.py)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.base import PLATFORM_TENANT_ID
from domain.identity import SellerSignUpClosed, Tenant, TenantNotFound
from domain.organisations import Organisation, OrganisationExists, OrganisationNotFound
from domain.sellers import Seller
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication


class OrganisationsApplication(ServiceApplication):
    name = "organisations"

    @command
    def found(self, ctx: CommandContext, owner_id: UUID, name: str) -> CommandResult:
        """Founds the organisation of a seller_pro user (409 if it has one)."""
        organisation = Organisation.found(owner_id, name)
        try:
            return CommandResult(organisation.id, self.record(ctx, organisation))
        except IntegrityError:
            raise OrganisationExists("this user has an organisation already") from None

    @command
    def join(
        self,
        ctx: CommandContext,
        organisation_id: UUID,
        marketplace_id: UUID,
        display_name: str,
        country: str,
    ) -> CommandResult:
        """Applies to sell on a marketplace: the organisation's seller there is registered,
        pending the marketplace's approval, in the same save as the organisation records it.
        Answers the seller's id. 404 for an unknown marketplace, 403 where sellers may not sign
        themselves up, 409 when the organisation applied there before."""
        organisation = self.load(
            Organisation, organisation_id, PLATFORM_TENANT_ID, OrganisationNotFound
        )
        if marketplace_id == PLATFORM_TENANT_ID:
            raise TenantNotFound(f"tenant {marketplace_id} not found")
        tenant = self.load(Tenant, marketplace_id, marketplace_id, TenantNotFound, reading=True)
        if not tenant.seller_signup:
            raise SellerSignUpClosed("this marketplace does not let sellers sign themselves up")
        seller_id = organisation.join(marketplace_id)
        seller = Seller.register(
            marketplace_id,
            organisation.owner_id,
            display_name,
            country,
            acting_for=organisation.id,
        )
        assert seller.id == seller_id
        return CommandResult(seller_id, self.record(ctx, organisation, seller))

    def seller_in(self, organisation_id: UUID, marketplace_id: UUID) -> UUID:
        """The organisation's seller in a marketplace it joined (404 otherwise)."""
        return self._organisation(organisation_id).seller_in(marketplace_id)

    def _organisation(self, organisation_id: UUID) -> Organisation:
        return self.load(
            Organisation, organisation_id, PLATFORM_TENANT_ID, OrganisationNotFound, reading=True
        )
