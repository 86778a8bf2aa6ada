"""Passwords (argon2) and access tokens (PyJWT, HS256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID, uuid4

import jwt
from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.policy import Visitor
from api.problems import Problem
from domain.base import PLATFORM_TENANT_ID
from domain.organisations import organisation_id_for

_ALGORITHM = "HS256"
GUEST = Visitor.GUEST.value
_ISSUER = "velora"


class Argon2Hasher:
    """Implements the domain's PasswordHasher port with argon2id."""

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost_kib: int = 65536,
        concurrent: int = 4,
        wait_s: float = 10.0,
    ) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_cost_kib)
        # Each check takes memory_cost_kib: at most `concurrent` at once, so a burst of logins
        # waits its turn instead of taking gigabytes; past `wait_s` in line it is refused.
        self._turns = threading.BoundedSemaphore(concurrent)
        self._wait_s = wait_s
        # Verifying against this when the email is unknown costs the same as a real check, so
        # response times do not tell which emails are registered.
        self._decoy = self._argon2.hash(uuid4().hex)

    def hash(self, password: str) -> str:
        with self._turn():
            return self._argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        with self._turn():
            try:
                return self._argon2.verify(password_hash or self._decoy, password) and bool(
                    password_hash
                )
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if not self._turns.acquire(timeout=self._wait_s):
            raise Problem(503, "too many password checks at once", headers={"Retry-After": "1"})
        try:
            yield
        finally:
            self._turns.release()


@dataclass(frozen=True)
class Principal:
    """Who is calling, as their token says. Ids are UUIDs here, as in the applications and the
    domain; the read models store them as text, and `TenantScope` and the queries take either.

    A guest (a publishable key and no token, api/deps.py) is a principal too, so every route's
    `Allowed` check and `TenantScope` work for it unchanged: its tenant is its key's, its one
    role the pseudo-role `guest` (api/policy.py), and its `user_id` its key's id. No user has
    that id, so nothing is a guest's own: no seller acts for it, no order or cart is its."""

    user_id: UUID
    tenant_id: UUID
    roles: frozenset[str]
    # When its token was issued, in milliseconds since the epoch (0: a guest's, or unknown).
    issued_at_ms: int = 0
    # A marketplace token's (docs/api-seller-pro.md): the organisation whose seller in this
    # tenant the caller, a platform seller_pro user, acts for. None for every other token.
    organisation_id: UUID | None = None

    @property
    def home_tenant_id(self) -> UUID:
        """The tenant the caller's account lives in: the token's, or the platform's for a
        marketplace token."""
        return self.tenant_id if self.organisation_id is None else PLATFORM_TENANT_ID

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


class InvalidToken(Exception):
    pass


Capability = Literal["cart", "order", "publishable_key"]
CAPABILITY_PREFIXES: dict[str, str] = {"cart": "ct", "order": "ot", "publishable_key": "pk"}
# (A publishable key's secret is derived too, and its text made by domain/storefront.py.)


class TokenService:
    # Tokens checked already, each with its expiry: a request presents its token to the
    # idempotency check, the command context and the caller dependency, and a client presents
    # the same one for its whole life, so its signature and claims are checked once per process.
    VERIFIED_MAX = 10_000

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s
        self._verified: dict[str, tuple[Principal, int]] = {}

    def secret_for(self, purpose: str) -> str:
        """A key for another purpose, derived from the signing key so no second secret is needed,
        and unrelated to it so neither reveals the other."""
        return hmac.new(self._secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()

    def capability(self, kind: Capability, aggregate_id: UUID) -> str:
        """The token that opens one guest's cart (`ct_…`) or order (`ot_…`) to whoever holds
        it: an HMAC of the id under a key of its own, so nothing is stored to check it, a
        checkout retried gives the same order token, and no token opens another cart or
        order. It lives as long as the signing key."""
        return f"{CAPABILITY_PREFIXES[kind]}_{self.derived_secret(kind, aggregate_id)}"

    def derived_secret(self, kind: Capability, aggregate_id: UUID) -> str:
        """43 url-safe characters only this service can make for that id (an HMAC under a key
        of the kind's own)."""
        mac = hmac.new(
            self.secret_for(f"capability:{kind}").encode(), str(aggregate_id).encode(), "sha256"
        ).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def holds(self, kind: Capability, aggregate_id: UUID, presented: str | None) -> bool:
        """Whether `presented` is the token of that cart or order (compared in constant time)."""
        if not presented or len(presented) > 100 or not presented.isascii():
            return False
        return hmac.compare_digest(self.capability(kind, aggregate_id), presented)

    def issue(
        self, user_id: str, tenant_id: str, roles: list[str], organisation_id: str | None = None
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_id,
            "tenant_id": tenant_id,
            "roles": roles,
            "iat": now,
            # To the millisecond: a password reset ends every token issued before it, and a
            # sign-in with the new password in the same second must not be taken for one.
            "iat_ms": int(time.time() * 1000),
            "exp": now + self.ttl_s,
            "iss": _ISSUER,
            "jti": uuid4().hex,
        }
        if organisation_id is not None:
            claims["org"] = organisation_id
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The principal a sound, unexpired token of this service names; InvalidToken else."""
        known = self._verified.get(token)
        if known is not None:
            if known[1] > time.time():
                return known[0]
            self._verified.pop(token, None)
            raise InvalidToken("Signature has expired")
        principal, expires = self._checked(token)
        if len(self._verified) >= self.VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _checked(self, token: str) -> tuple[Principal, int]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                options={"require": ["sub", "tenant_id", "roles", "exp", "iat"]},
            )
            # A token signed with our key but claiming a longer life than we issue (or issued
            # in the future) was not made by this service as configured: refuse it.
            if claims["exp"] - claims["iat"] > self.ttl_s or claims["iat"] > time.time() + 60:
                raise InvalidToken("the token claims a lifetime this service does not issue")
            roles = claims["roles"]
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                raise InvalidToken("roles claim is not a list of strings")
            if GUEST in roles:
                raise InvalidToken("no token carries the guest pseudo-role")
            issued_ms = claims.get("iat_ms")
            if not isinstance(issued_ms, int):
                issued_ms = int(claims["iat"]) * 1000
            user_id = UUID(claims["sub"])
            organisation = claims.get("org")
            if organisation is not None and UUID(organisation) != organisation_id_for(user_id):
                raise InvalidToken("the token names an organisation its user does not own")
            principal = Principal(
                user_id,
                UUID(claims["tenant_id"]),
                frozenset(roles),
                issued_ms,
                None if organisation is None else UUID(organisation),
            )
            return principal, int(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as e:
            raise InvalidToken(str(e)) from None
