"""Organisations: Seller Pro businesses and the marketplaces they sell on."""

from __future__ import annotations

from dataclasses import dataclass

from api.wiring.platform import Wiring
from projections.organisations.dashboard import OrganisationDashboard
from projections.organisations.master_queries import MasterCatalogQueries
from projections.organisations.projector import OrganisationsProjector
from projections.organisations.queries import OrganisationQueries
from services.organisations import OrganisationsApplication


@dataclass
class OrganisationParts:
    organisations: OrganisationsApplication
    organisation_queries: OrganisationQueries
    master_catalog_queries: MasterCatalogQueries
    organisation_dashboard: OrganisationDashboard


def wire_organisations(wiring: Wiring) -> OrganisationParts:
    wiring.project(OrganisationsProjector())
    return OrganisationParts(
        organisations=OrganisationsApplication(wiring.log, on_recorded=wiring.recorded),
        organisation_queries=OrganisationQueries(wiring.read_store),
        master_catalog_queries=MasterCatalogQueries(wiring.read_store),
        organisation_dashboard=OrganisationDashboard(wiring.read_store),
    )
