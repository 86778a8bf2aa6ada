"""Getting back into an account: sign-ins that last (sessions and their refresh tokens),
password resets and email verification.

**Tokens.** Every token this module hands out reads `<aggregate id>.<secret>`: the id (32 hex
digits) locates the one aggregate the token belongs to, so redeeming it needs no index; the
secret (32 random bytes, URL-safe) is never stored. Its SHA-256 digest is, in a field each event
declares secret (domain/secrets.py), so neither the log nor the audit trail holds anything a
token can be made from. A plain digest suffices where a password needs argon2: the secret is
random and long, so there is no dictionary to try. Digests are compared in constant time.

**Sessions.** Signing in starts a `Session`, one aggregate per sign-in, holding the digest of its
current refresh token. Refreshing rotates it: the presented token must be the current one; its
digest joins the spent ones and a new token's becomes current. A spent token presented again
means two parties hold this sign-in's tokens, one of whom stole them, and nobody can tell which:
the session is revoked, so every refresh token of it stops (OAuth 2.0 Security BCP, refresh
token rotation). A wrong secret under a real session's id revokes nothing: knowing a session's
id (an auditor sees ids) must not let anyone sign a person out. Each refresh token lives
`ttl` (30 days) from its issue; signing out revokes the session.

**Everything at once, without an index.** A password reset must end every sign-in of the
account. The user records `User.SessionsRevoked(at)`, and a session started at or before that
moment is refused whenever it is presented: no list of a person's sessions is kept anywhere.
Likewise a password reset requested before the password last changed is spent.

**Single-use tokens.** A `PasswordReset` (30 minutes) and an `EmailVerification` (7 days) are
each an aggregate of their own: requested with the digest of their token, then used once. Using
a reset changes the password, revokes every session and verifies the email (whoever read the
mail reads that mailbox); confirming a verification verifies the email. Those rules span the
token and the user, so they live in the functions at the end, the one place each is decided.

Named results (`TokenCheck`) say why a token was refused; the API answers every refusal alike
(401 on refresh, 400 on a reset or verification), so nobody learns more than "not this token"."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.identity import User

REFRESH_TTL = timedelta(days=30)
PASSWORD_RESET_TTL = timedelta(minutes=30)
EMAIL_VERIFICATION_TTL = timedelta(days=7)

_SECRET_BYTES = 32
_TOKEN = re.compile(r"^([0-9a-f]{32})\.([A-Za-z0-9_-]{40,64})$")


class TokenCheck(StrEnum):
    """What presenting a token came to."""

    OK = "ok"
    UNKNOWN = "unknown"  # no such token: wrong secret, or nothing under that id
    EXPIRED = "expired"
    SPENT = "spent"  # used once already: a reset, a verification, a refresh token rotated away
    REVOKED = "revoked"  # its sign-in ended: signed out, reused, or every session revoked


def new_secret() -> str:
    return secrets.token_urlsafe(_SECRET_BYTES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class AccountToken:
    """A token as its holder has it: the id of the aggregate it opens, and its secret."""

    aggregate_id: UUID
    secret: str = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> AccountToken | None:
        """The token a text spells, or None when it is not one (never an exception: whatever
        a client sends is answered as a wrong token)."""
        found = _TOKEN.match(text)
        if found is None:
            return None
        return cls(UUID(hex=found.group(1)), found.group(2))

    def __str__(self) -> str:
        return f"{self.aggregate_id.hex}.{self.secret}"

    def matches(self, stored_digest: str) -> bool:
        return hmac.compare_digest(digest(self.secret), stored_digest)


class Session(TenantAggregate):
    """One sign-in, and the refresh token that keeps it going (see the module's docstring)."""

    class Started(TenantAggregate.Created):
        secret: ClassVar[frozenset[str]] = frozenset({"token_digest"})
        user_id: UUID
        token_digest: str
        expires_at: datetime

    class Rotated(TenantAggregate.Event):
        secret: ClassVar[frozenset[str]] = frozenset({"token_digest"})
        token_digest: str
        expires_at: datetime

    class Revoked(TenantAggregate.Event):
        reason: str  # "signed_out", or "reused": a spent refresh token came back

    @event(Started)
    def __init__(
        self, tenant_id: UUID, user_id: UUID, token_digest: str, expires_at: datetime
    ) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.token_digest = token_digest
        self.expires_at = expires_at
        self.spent_digests: list[str] = []
        self.revoked: str | None = None

    @classmethod
    def start(cls, user: User, secret: str, now: datetime, ttl: timedelta = REFRESH_TTL) -> Session:
        """A sign-in of `user`, whose first refresh token has `secret`."""
        assert not user.erased, "an erased person does not sign in"
        return cls(
            tenant_id=user.tenant_id,
            user_id=user.id,
            token_digest=digest(secret),
            expires_at=now + ttl,
        )

    def refresh(
        self,
        presented: AccountToken,
        new_secret: str,
        user: User | None,
        now: datetime,
        ttl: timedelta = REFRESH_TTL,
    ) -> TokenCheck:
        """Swaps the presented refresh token for one with `new_secret`, if it is this session's
        current one and the session still stands (its `user` as the log has them now: None
        once erased)."""
        assert presented.aggregate_id == self.id, "a token of another session"
        standing = self._standing(user, now)
        if standing is not TokenCheck.OK:
            return standing
        if presented.matches(self.token_digest):
            self._rotated(token_digest=digest(new_secret), expires_at=now + ttl)
            return TokenCheck.OK
        return self._not_current(presented)

    def sign_out(self, presented: AccountToken) -> TokenCheck:
        """Ends the sign-in with its current refresh token. A spent one ends it too, as reuse."""
        assert presented.aggregate_id == self.id, "a token of another session"
        if self.revoked is not None:
            return TokenCheck.REVOKED
        if presented.matches(self.token_digest):
            self._revoked(reason="signed_out")
            return TokenCheck.OK
        return self._not_current(presented)

    def _standing(self, user: User | None, now: datetime) -> TokenCheck:
        if self.revoked is not None:
            return TokenCheck.REVOKED
        if user is None or user.id != self.user_id or user.erased:
            return TokenCheck.REVOKED
        if user.started_before_revocation(self.created_on):
            return TokenCheck.REVOKED
        if now >= self.expires_at:
            return TokenCheck.EXPIRED
        return TokenCheck.OK

    def _not_current(self, presented: AccountToken) -> TokenCheck:
        """A token that is not the current one: spent (revoke, it was stolen) or unknown."""
        if any(presented.matches(spent) for spent in self.spent_digests):
            self._revoked(reason="reused")
            return TokenCheck.SPENT
        return TokenCheck.UNKNOWN

    @event(Rotated)
    def _rotated(self, token_digest: str, expires_at: datetime) -> None:
        self.spent_digests = [*self.spent_digests, self.token_digest]
        self.token_digest = token_digest
        self.expires_at = expires_at

    @event(Revoked)
    def _revoked(self, reason: str) -> None:
        self.revoked = reason


class SingleUse:
    """A token that opens one thing once, before it expires: the shape a password reset and an
    email verification share (a mixin of theirs, not an aggregate of its own)."""

    id: UUID
    user_id: UUID
    token_digest: str
    expires_at: datetime
    used: bool

    def check(self, presented: AccountToken, now: datetime) -> TokenCheck:
        """Whether the token opens this now; it is used only by the functions below."""
        assert presented.aggregate_id == self.id, "a token of another aggregate"
        if not presented.matches(self.token_digest):
            return TokenCheck.UNKNOWN
        if self.used:
            return TokenCheck.SPENT
        if now >= self.expires_at:
            return TokenCheck.EXPIRED
        return TokenCheck.OK


class PasswordReset(SingleUse, TenantAggregate):
    """A request to choose a new password, mailed to the account's email."""

    class Requested(TenantAggregate.Created):
        secret: ClassVar[frozenset[str]] = frozenset({"token_digest"})
        user_id: UUID
        token_digest: str
        expires_at: datetime

    class Used(TenantAggregate.Event):
        """The password was changed with it."""

    @event(Requested)
    def __init__(
        self, tenant_id: UUID, user_id: UUID, token_digest: str, expires_at: datetime
    ) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.token_digest = token_digest
        self.expires_at = expires_at
        self.used = False

    @classmethod
    def request(
        cls, user: User, secret: str, now: datetime, ttl: timedelta = PASSWORD_RESET_TTL
    ) -> PasswordReset:
        assert not user.erased, "an erased person has no account to reset"
        return cls(
            tenant_id=user.tenant_id,
            user_id=user.id,
            token_digest=digest(secret),
            expires_at=now + ttl,
        )

    def use(self) -> None:
        self._used()

    @event(Used)
    def _used(self) -> None:
        self.used = True


class EmailVerification(SingleUse, TenantAggregate):
    """Proof, once its token comes back, that the person reads mail sent to their email."""

    class Requested(TenantAggregate.Created):
        secret: ClassVar[frozenset[str]] = frozenset({"token_digest"})
        user_id: UUID
        token_digest: str
        expires_at: datetime

    class Confirmed(TenantAggregate.Event):
        """The token came back: the user's email is verified."""

    @event(Requested)
    def __init__(
        self, tenant_id: UUID, user_id: UUID, token_digest: str, expires_at: datetime
    ) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.token_digest = token_digest
        self.expires_at = expires_at
        self.used = False

    @classmethod
    def request(
        cls, user: User, secret: str, now: datetime, ttl: timedelta = EMAIL_VERIFICATION_TTL
    ) -> EmailVerification:
        return cls(
            tenant_id=user.tenant_id,
            user_id=user.id,
            token_digest=digest(secret),
            expires_at=now + ttl,
        )

    def confirm(self) -> None:
        self._confirmed()

    @event(Confirmed)
    def _confirmed(self) -> None:
        self.used = True


def reset_password(
    reset: PasswordReset,
    user: User | None,
    presented: AccountToken,
    password_hash: str,
    now: datetime,
) -> TokenCheck:
    """Changes the password with a reset token, once. `user` is the reset's user as the log has
    them now (None if unknown). A reset requested before the password last changed is spent:
    one reset, or a later change, ends every reset asked for before it. Using it revokes every
    session of the account and verifies its email, since the token came through that mailbox."""
    check = reset.check(presented, now)
    if check is not TokenCheck.OK:
        return check
    if user is None or user.id != reset.user_id or user.erased:
        return TokenCheck.REVOKED
    if user.password_changed_at is not None and reset.created_on <= user.password_changed_at:
        return TokenCheck.SPENT
    reset.use()
    user.change_password(password_hash, now)
    user.verify_email()
    return TokenCheck.OK


def verify_email(
    verification: EmailVerification, user: User | None, presented: AccountToken, now: datetime
) -> TokenCheck:
    """Verifies the user's email with the token mailed to it, once."""
    check = verification.check(presented, now)
    if check is not TokenCheck.OK:
        return check
    if user is None or user.id != verification.user_id or user.erased:
        return TokenCheck.REVOKED
    verification.confirm()
    user.verify_email()
    return TokenCheck.OK
