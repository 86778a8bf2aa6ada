"""Profiles: what a person keeps about themselves beside their account (details, addresses)."""

from __future__ import annotations

from dataclasses import dataclass

from api.wiring.platform import Wiring
from projections.profiles.projector import ProfilesProjector
from projections.profiles.queries import ProfileQueries
from services.profiles import ProfileApplication


@dataclass
class ProfileParts:
    profiles: ProfileApplication
    profile_queries: ProfileQueries


def wire_profiles(wiring: Wiring) -> ProfileParts:
    wiring.project(ProfilesProjector())
    return ProfileParts(
        profiles=ProfileApplication(wiring.log, on_recorded=wiring.recorded),
        profile_queries=ProfileQueries(wiring.read_store),
    )
