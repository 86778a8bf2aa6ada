"""The Organisation aggregate: one per seller_pro user, on the platform; it joins each
marketplace once, and its seller there has the id only it derives."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.base import PLATFORM_TENANT_ID
from domain.organisations import (
    AlreadyApplied,
    InvalidOrganisation,
    MarketplaceNotJoined,
    Organisation,
    organisation_id_for,
)
from domain.roles import InvalidRoles, check_platform_sign_up, parse_roles
from domain.sellers import Seller, seller_id_for


def test_an_organisation_is_its_owners_one_on_the_platform() -> None:
    owner = uuid4()
    organisation = Organisation.found(owner, "  Fluxori  ")
    assert organisation.id == organisation_id_for(owner)
    assert (organisation.tenant_id, organisation.name) == (PLATFORM_TENANT_ID, "Fluxori")
    with pytest.raises(InvalidOrganisation):
        Organisation.found(owner, " ")


def test_it_joins_each_marketplace_once_as_a_seller_whose_id_is_its_own() -> None:
    organisation = Organisation.found(uuid4(), "Fluxori")
    acme, globex = uuid4(), uuid4()
    seller = organisation.join(acme)
    assert seller == seller_id_for(acme, organisation.id) == organisation.seller_in(acme)
    assert organisation.join(globex) != seller
    with pytest.raises(AlreadyApplied):
        organisation.join(acme)
    with pytest.raises(MarketplaceNotJoined):
        organisation.seller_in(uuid4())
    joined = [
        e for e in organisation.collect_events() if isinstance(e, Organisation.MarketplaceJoined)
    ]
    assert [(e.marketplace_id, e.tenant_id) for e in joined] == [
        (acme, PLATFORM_TENANT_ID),
        (globex, PLATFORM_TENANT_ID),
    ]
    # The seller registered for it takes that id, not its owner's.
    registered = Seller.register(
        acme, organisation.owner_id, "Fluxori", "DE", acting_for=organisation.id
    )
    assert registered.id == seller and registered.id != seller_id_for(acme, organisation.owner_id)


def test_seller_pro_lives_on_the_platform_alone() -> None:
    assert parse_roles(["seller_pro"], PLATFORM_TENANT_ID) == ["seller_pro"]
    for roles, tenant in (
        (["seller_pro"], uuid4()),
        (["seller_pro", "auditor"], PLATFORM_TENANT_ID),
    ):
        with pytest.raises(InvalidRoles):
            parse_roles(roles, tenant)
    assert check_platform_sign_up("seller_pro") == "seller_pro"
    with pytest.raises(InvalidRoles):
        check_platform_sign_up("super_admin")
