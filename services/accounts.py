"""The accounts application: what a person does to stay in, or get back into, their account.
Signing in starts a session and hands out its first refresh token; refreshing rotates it;
signing out ends it; a password reset is asked for by email and used once; an email is verified
with the token mailed at sign-up. The rules are domain/accounts.py's; this loads, calls and
saves.

Tokens come in as text and are parsed here: anything that is not a token of ours, names nothing,
or names another kind of aggregate is answered as a wrong token (`TokenCheck.UNKNOWN`), never
an error, so no shape of input tells a caller more than "not this token"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from domain.accounts import (
    PASSWORD_RESET_TTL,
    REFRESH_TTL,
    AccountToken,
    EmailVerification,
    PasswordReset,
    Session,
    TokenCheck,
    new_secret,
    reset_password,
    verify_email,
)
from domain.credentials import PasswordHasher, check_password
from domain.identity import User
from eventstore.application import command
from eventstore.context import CommandContext
from eventstore.log import EventLog
from eventstore.mapper import event_id
from services.account_mail import AccountMail
from services.base import ServiceApplication
from services.identity import IdentityApplication, valid_for

# The mail's kind (projections/mail/templates/).
PASSWORD_RESET = "password_reset"  # noqa: S105 - a template's name, not a password

T = TypeVar("T")


@dataclass(frozen=True)
class SignedIn:
    """A sign-in that stands: who, with which roles (as the account has them now), and the
    refresh token that keeps it going."""

    user_id: UUID
    tenant_id: UUID
    roles: list[str]
    refresh_token: str = field(repr=False)
    position: int


class AccountApplication(ServiceApplication):
    name = "accounts"

    def __init__(
        self,
        log: EventLog,
        identity: IdentityApplication,
        hasher: PasswordHasher,
        mail: AccountMail,
        *,
        refresh_ttl: timedelta = REFRESH_TTL,
        reset_ttl: timedelta = PASSWORD_RESET_TTL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        **kwargs: object,
    ) -> None:
        super().__init__(log, **kwargs)  # type: ignore[arg-type]
        self._identity = identity
        self._hasher = hasher
        self.mail = mail
        self._refresh_ttl = refresh_ttl
        self._reset_ttl = reset_ttl
        self._now = clock

    @command
    def start_session(self, ctx: CommandContext, user: User) -> SignedIn:
        """Starts a sign-in of a user whose password was just checked."""
        secret = new_secret()
        session = Session.start(user, secret, self._now(), self._refresh_ttl)
        position = self.record(ctx, session)
        return self._signed_in(user, session, secret, position)

    @command
    def refresh(self, ctx: CommandContext, token: str) -> SignedIn | TokenCheck:
        """Rotates a refresh token: the new one, or why not. A spent token revokes its session
        (recorded before the refusal is answered)."""
        presented = AccountToken.parse(token)
        if presented is None:
            return TokenCheck.UNKNOWN

        def attempt() -> SignedIn | TokenCheck:
            session = self._loaded(Session, presented.aggregate_id)
            if session is None:
                return TokenCheck.UNKNOWN
            user = self._identity.active_user(session.user_id, session.tenant_id)
            secret = new_secret()
            check = session.refresh(presented, secret, user, self._now(), self._refresh_ttl)
            position = self.record(ctx, session)  # a rotation, a revocation, or nothing
            if check is not TokenCheck.OK or user is None:
                return check
            return self._signed_in(user, session, secret, position)

        return self.retrying(attempt, "this sign-in is being refreshed by many at once")

    @command
    def sign_out(self, ctx: CommandContext, token: str) -> int:
        """Ends the sign-in a refresh token belongs to. Whatever the token, the answer is the
        same (RFC 7009: a token that opens nothing needs no revoking); returns the position."""
        presented = AccountToken.parse(token)
        if presented is None:
            return self._log.head()

        def attempt() -> int:
            session = self._loaded(Session, presented.aggregate_id)
            if session is None:
                return self._log.head()
            session.sign_out(presented)
            return self.record(ctx, session)

        return self.retrying(attempt, "this sign-in is being signed out by many at once")

    def request_password_reset(self, ctx: CommandContext, tenant_id: UUID, email: str) -> None:
        """Mails a password reset to the account with this email in this tenant, if there is
        one. All of it, finding the account included, happens on the mail thread: the request
        is answered before, in the same time whether or not the email has an account, so no
        dummy work is needed to hide which (timing is the one thing the caller could read)."""
        self.mail.later(
            lambda: self._mail_password_reset(ctx, tenant_id, email), "a password reset"
        )

    @command
    def _mail_password_reset(self, ctx: CommandContext, tenant_id: UUID, email: str) -> None:
        user = self._identity.signing_in(tenant_id, email)
        if user is None:
            return  # nobody to write to, and nobody to tell that
        secret = new_secret()
        reset = PasswordReset.request(user, secret, self._now(), self._reset_ttl)
        self.record(ctx, reset)
        self.mail.send(
            PASSWORD_RESET,
            to=user.email,
            tenant_id=user.tenant_id,
            user_id=user.id,
            notification_id=str(event_id(reset.id, 1)),
            token=str(AccountToken(reset.id, secret)),
            valid_for=valid_for(self._reset_ttl),
        )

    @command
    def reset_password(
        self, ctx: CommandContext, token: str, new_password: str
    ) -> tuple[TokenCheck, int]:
        """Sets a new password with a reset token, once (domain/accounts.reset_password), and
        revokes every sign-in of the account. Returns what the token came to, and the position
        of what was recorded. A weak password is refused before the token is looked at."""
        check_password(new_password)
        presented = AccountToken.parse(token)
        if presented is None:
            return TokenCheck.UNKNOWN, self._log.head()
        password_hash = self._hasher.hash(new_password)  # slow: once, before any attempt

        def attempt() -> tuple[TokenCheck, int]:
            reset = self._loaded(PasswordReset, presented.aggregate_id)
            if reset is None:
                return TokenCheck.UNKNOWN, self._log.head()
            user = self._user(reset.user_id, reset.tenant_id)
            check = reset_password(reset, user, presented, password_hash, self._now())
            if check is not TokenCheck.OK:
                return check, self._log.head()
            return check, self.record(ctx, reset, user)

        return self.retrying(attempt, "this password is being reset by many at once")

    @command
    def verify_email(self, ctx: CommandContext, token: str) -> tuple[TokenCheck, int]:
        """Verifies an account's email with the token mailed at sign-up, once."""
        presented = AccountToken.parse(token)
        if presented is None:
            return TokenCheck.UNKNOWN, self._log.head()

        def attempt() -> tuple[TokenCheck, int]:
            verification = self._loaded(EmailVerification, presented.aggregate_id)
            if verification is None:
                return TokenCheck.UNKNOWN, self._log.head()
            user = self._user(verification.user_id, verification.tenant_id)
            check = verify_email(verification, user, presented, self._now())
            if check is not TokenCheck.OK:
                return check, self._log.head()
            return check, self.record(ctx, verification, user)

        return self.retrying(attempt, "this email is being verified by many at once")

    def close(self) -> None:
        self.mail.close()

    def _loaded(self, kind: type[T], aggregate_id: UUID) -> T | None:
        """The aggregate a token names, to change, if it is of the kind the token must open."""
        aggregate = self.get_or_none(aggregate_id)
        return aggregate if isinstance(aggregate, kind) else None

    def _user(self, user_id: UUID, tenant_id: UUID) -> User | None:
        """The account to change, unless it is gone (erased, or never of this tenant)."""
        user = self.get_or_none(user_id)
        if not isinstance(user, User) or user.tenant_id != tenant_id or user.erased:
            return None
        return user

    @staticmethod
    def _signed_in(user: User, session: Session, secret: str, position: int) -> SignedIn:
        return SignedIn(
            user_id=user.id,
            tenant_id=user.tenant_id,
            roles=list(user.roles),
            refresh_token=str(AccountToken(session.id, secret)),
            position=position,
        )
