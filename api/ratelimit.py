"""Abuse limits (API.md's 429): sign-in and sign-up per client address and per account, the
account-token routes (password resets asked for and confirmed, emails verified) per address and
a reset's mail per account, guests per client address and per publishable key, and a request
budget per tenant. The counting is the `limits` library's; the counters live in Redis when
VELORA_REDIS_URL is set, so every API process shares them, else in this process's memory (the
embedded default runs one process)."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import cast

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from api.problems import Problem
from api.settings import Settings


@dataclass(frozen=True)
class RateLimits:
    # Sign-in and sign-up are few and costly (an argon2 check each): a moving window, so no
    # burst fits at a window's edge. The tenant budget is counted on every request: a fixed
    # window, one counter and one round trip.
    careful: RateLimiter
    cheap: RateLimiter
    sign_in_per_address: RateLimitItem
    sign_in_per_account: RateLimitItem
    sign_up_per_address: RateLimitItem
    tenant_requests: RateLimitItem
    account_tokens_per_address: RateLimitItem
    password_reset_per_account: RateLimitItem
    guest_per_address: RateLimitItem
    guest_per_key: RateLimitItem

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        store = (
            cast(
                Storage,
                storage_from_string(
                    settings.redis_url,
                    key_prefix=settings.redis_key_prefix,
                    # A Redis that is away answers 503 within a second, not a hung request.
                    socket_connect_timeout=1.0,
                    socket_timeout=1.0,
                ),
            )
            if settings.redis_url
            else MemoryStorage()
        )
        return cls(
            careful=MovingWindowRateLimiter(store),
            cheap=FixedWindowRateLimiter(store),
            sign_in_per_address=parse(settings.rate_sign_in_per_address),
            sign_in_per_account=parse(settings.rate_sign_in_per_account),
            sign_up_per_address=parse(settings.rate_sign_up_per_address),
            tenant_requests=parse(settings.rate_tenant_requests),
            account_tokens_per_address=parse(settings.rate_account_tokens_per_address),
            password_reset_per_account=parse(settings.rate_password_reset_per_account),
            guest_per_address=parse(settings.rate_guest_per_address),
            guest_per_key=parse(settings.rate_guest_per_key),
        )

    def ping(self) -> None:
        """Raises unless the counters' storage answers (Redis, when one is configured)."""
        if not self.careful.storage.check():
            raise ConnectionError("the rate-limit counters' storage does not answer")

    def sign_in(self, address: str, tenant_id: str, email: str) -> None:
        """Counts a sign-in attempt, right or wrong: guessing a password costs the guesser."""
        self._hit(self.careful, self.sign_in_per_address, "sign-in", address)
        self._hit(
            self.careful, self.sign_in_per_account, "sign-in-account", _account(tenant_id, email)
        )

    def sign_up(self, address: str) -> None:
        self._hit(self.careful, self.sign_up_per_address, "sign-up", address)

    def password_reset(self, address: str, tenant_id: str, email: str) -> None:
        """Counts a request to mail a password reset: per address, like every account-token
        request, and per account, so nobody fills a person's mailbox. Counted alike whether or
        not the email has an account, so a 429 tells nothing either."""
        self.account_token(address)
        self._hit(
            self.careful,
            self.password_reset_per_account,
            "password-reset-account",
            _account(tenant_id, email),
        )

    def account_token(self, address: str) -> None:
        """Counts a request that presents or asks for an account token (reset, verification)."""
        self._hit(self.careful, self.account_tokens_per_address, "account-token", address)

    def guest_address(self, address: str) -> None:
        """Counts a guest's request from an address before its key is looked at, so trying keys
        costs the one who tries, like guessing passwords."""
        self._hit(self.cheap, self.guest_per_address, "guest", address)

    def guest_key(self, key_id: str) -> None:
        """Counts a request with a key that opens: one storefront's guests together never take
        more than this, whatever their addresses."""
        self._hit(self.cheap, self.guest_per_key, "guest-key", key_id)

    def tenant_request(self, tenant_id: str) -> None:
        self._hit(self.cheap, self.tenant_requests, "tenant", tenant_id)

    @staticmethod
    def _hit(limiter: RateLimiter, item: RateLimitItem, *identifiers: str) -> None:
        if limiter.hit(item, *identifiers):
            return
        reset_at = limiter.get_window_stats(item, *identifiers).reset_time
        wait_s = max(1, math.ceil(reset_at - time.time()))
        raise Problem(
            429,
            f"more than {item.amount} per {item.multiples} {item.GRANULARITY.name}"
            f"{'s' if item.multiples != 1 else ''}; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )


def _account(tenant_id: str, email: str) -> str:
    """The account an attempt names, as a digest: the counters never hold an email address."""
    return hashlib.sha256(f"{tenant_id}:{email.strip().lower()}".encode()).hexdigest()[:32]
