"""Storefronts and their publishable keys: how a visitor who has not signed in (a *guest*) is let
read a marketplace's public catalog.

**What a key is.** A marketplace admin creates a publishable key for each storefront app (a web
shop, a mobile app). The app sends it with every request of a visitor who is not signed in; the
key names the tenant whose catalog the visitor browses, and nothing about the visitor. It is
called publishable because it is not a secret from the visitors: it ships inside the storefront's
code. It is still a credential of the marketplace (whoever holds it reads as a guest of that
tenant, and later shops as one), so it is shown once, at creation, and only its digest is kept.

**Shape.** A key reads `pk_<key id>.<secret>`: `pk_` says what it is (as Stripe's and Medusa's
keys do), and the rest is an account token (domain/accounts.py): the id (32 hex digits) locates
the one aggregate that can open it, so checking a key needs no index, and the secret (32 random
bytes, URL-safe) is stored only as its SHA-256 digest, in a field declared secret
(domain/secrets.py), compared in constant time. Besides the digest the key keeps a *hint*, its
last four characters, which the admin's list shows so a person can tell keys apart; four
characters of a 43-character random secret tell a guesser nothing worth having.

**Deleting.** A deleted key opens nothing from the moment its deletion is recorded: whoever
checks a key reads the aggregate from the event log (the process's aggregate cache, which looks
at the log before each read), never a read model that may lag. Deleting is for good; a deleted
key is never restored (make a new one), and deleting it again changes nothing. Unlike Medusa's,
a key is not revoked ahead of time: a storefront that rotates its key makes the new one, ships
it, then deletes the old.

Whether a key opens (`opens`) is the aggregate's rule; which routes a guest may call and what
they see there is the API's (api/policy.py, the public shapes of each route)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.accounts import AccountToken, digest
from domain.base import TenantAggregate
from domain.errors import DomainError, Invalid, NotFound
from domain.names import nfc

PREFIX = "pk_"
MAX_NAME_LENGTH = 100
HINT_LENGTH = 4
# The longest header value worth parsing: `pk_`, 32 hex digits, a dot and at most 64 characters.
MAX_KEY_LENGTH = len(PREFIX) + 32 + 1 + 64


class StorefrontError(DomainError):
    """Base of the storefront context's errors."""


class PublishableKeyNotFound(StorefrontError, NotFound):
    title = "Publishable key not found"


class InvalidKeyName(StorefrontError, Invalid):
    title = "Invalid key name"


@dataclass(frozen=True)
class PresentedKey:
    """A publishable key as a client sent it: the id of the key it names, and its secret."""

    token: AccountToken

    @classmethod
    def parse(cls, text: str) -> PresentedKey | None:
        """The key a text spells, or None when it is not one. Never an exception: whatever a
        client sends is answered as a wrong key."""
        if len(text) > MAX_KEY_LENGTH or not text.startswith(PREFIX):
            return None
        token = AccountToken.parse(text.removeprefix(PREFIX))
        return None if token is None else cls(token)

    @property
    def key_id(self) -> UUID:
        return self.token.aggregate_id


def key_text(key_id: UUID, secret: str) -> str:
    """The key as its holder has it (see the module's docstring)."""
    return PREFIX + str(AccountToken(key_id, secret))


def key_name(name: str) -> str:
    """A key's name as kept: NFC, without surrounding white space, 1 to 100 characters."""
    kept = nfc(name).strip()
    if not kept or len(kept) > MAX_NAME_LENGTH:
        raise InvalidKeyName(f"a key's name has 1 to {MAX_NAME_LENGTH} characters")
    return kept


@dataclass(frozen=True)
class Guest:
    """A visitor who came with a publishable key that opens: the key, and the tenant whose
    public catalog it reads. Nothing else is known of a guest."""

    key_id: UUID
    tenant_id: UUID


class PublishableKey(TenantAggregate):
    """One storefront's publishable key (see the module's docstring)."""

    class Created(TenantAggregate.Created):
        secret: ClassVar[frozenset[str]] = frozenset({"key_digest"})
        name: str
        key_digest: str
        hint: str  # the key's last characters, shown in lists; not secret
        # What made it, which names it: an admin's request and its Idempotency-Key (so a
        # repeat makes no second key), or a one-off request.
        origin: str
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["origin"] = ""

    class Deleted(TenantAggregate.Event):
        """The key opens nothing from now on."""

    @staticmethod
    def create_id(tenant_id: UUID, origin: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:publishable-key:{tenant_id}:{origin}")

    @event(Created)
    def __init__(self, tenant_id: UUID, name: str, key_digest: str, hint: str, origin: str) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.key_digest = key_digest
        self.hint = hint
        self.deleted = False

    @classmethod
    def create(
        cls, tenant_id: UUID, name: str, origin: str, secret_of: Callable[[UUID], str]
    ) -> tuple[PublishableKey, str]:
        """A new key of the tenant named `name`, made by `origin`, whose secret `secret_of`
        derives from its id; with the key's text, to be shown once. The same origin gives the
        same id, so the same secret: a repeated request answers the key it made."""
        key_id = cls.create_id(tenant_id, origin)
        secret = secret_of(key_id)
        key = cls(
            tenant_id=tenant_id,
            name=key_name(name),
            key_digest=digest(secret),
            hint=secret[-HINT_LENGTH:],  # the key's own last characters: it ends with its secret
            origin=origin,
        )
        return key, key_text(key.id, secret)

    def text(self, secret_of: Callable[[UUID], str]) -> str:
        """The key again, for a repeat of the request that made it (its secret derives from its
        id, and only the holder of the signing key can derive it)."""
        return key_text(self.id, secret_of(self.id))

    def delete(self) -> None:
        """Stops the key at once; a deleted key stays deleted (again: no change)."""
        if not self.deleted:
            self._deleted()

    def opens(self, presented: PresentedKey) -> bool:
        """Whether the presented key is this one, and not deleted."""
        assert presented.key_id == self.id, "a key of another aggregate"
        return not self.deleted and presented.token.matches(self.key_digest)

    def guest(self) -> Guest:
        return Guest(key_id=self.id, tenant_id=self.tenant_id)

    @event(Deleted)
    def _deleted(self) -> None:
        self.deleted = True
