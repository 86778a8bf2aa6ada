"""What every request passes: the idempotency store that answers a repeat with the first
answer, and the rate limits."""

from __future__ import annotations

from dataclasses import dataclass

from api.idempotency import IdempotencyStore
from api.ratelimit import RateLimits
from api.wiring.platform import Wiring


@dataclass
class GuardParts:
    idempotency: IdempotencyStore
    limits: RateLimits


def wire_guards(wiring: Wiring) -> GuardParts:
    settings = wiring.settings
    return GuardParts(
        idempotency=IdempotencyStore(wiring.read_store, ttl_s=settings.idempotency_ttl_s),
        limits=RateLimits.from_settings(settings),
    )
