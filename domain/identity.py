"""Identity and tenancy: tenants with their commercial settings, users with roles, and the
claims that keep an email unique within a tenant. What they are checked against lives beside
them: a tenant's settings as values, and the commands that change them once it is registered
(domain/tenant_settings.py), roles and who may grant them (domain/roles.py), emails and
passwords (domain/credentials.py). The aggregates and their events stay here, under the topics
they are stored under (`domain.identity:Tenant.TaxSet`, ...).

An email is claimed in its one spelling (`normalize_email`). Its claim holds it for one account
at a time; once that account's person is erased, a new account may take the email over. A
sign-up with an email some account holds registers nothing: the claim records the attempt, so
the holder can be told, and the caller is answered as any sign-up is (services/identity.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import PLATFORM_TENANT_ID, TenantAggregate
from domain.credentials import PasswordHasher, check_password, normalize_email
from domain.disputes import FeePayer
from domain.errors import Conflict, DomainError, NotAllowed, NotFound
from domain.money import parse_currency
from domain.names import nfc
from domain.personal import erased_marker
from domain.returns import DEFAULT_WINDOW_DAYS
from domain.roles import SIGN_UP_ROLES, InvalidRoles, Role, parse_roles
from domain.tenant_settings import (
    MAX_COMMISSION_BPS,
    MAX_ESCROW_HOLD_DAYS,
    InvalidTenantSettings,
    PayoutSchedule,
    ProductModeration,
    TenantSettings,
)


class IdentityError(DomainError):
    """Base of the identity context's errors."""


class TenantNotFound(IdentityError, NotFound):
    title = "Tenant not found"


class UserNotFound(IdentityError, NotFound):
    title = "User not found"


class EmailAlreadyRegistered(IdentityError, Conflict):
    title = "Email already registered"


class SellerSignUpClosed(IdentityError, NotAllowed):
    title = "Seller sign-up closed"


class Tenant(TenantSettings, TenantAggregate):
    """A marketplace. Its id is also its tenant id. What it decides for itself once registered
    (commission, tax, payouts, disputes, returns, seller sign-up) is changed by the commands of
    `TenantSettings` (domain/tenant_settings.py), which it mixes in; their events stay here."""

    class Registered(TenantAggregate.Created):
        name: str
        currency: str
        commission_bps: int
        escrow_hold_days: int
        product_moderation: str
        hold_timeout_s: int

    class CategoryCommissionSet(TenantAggregate.Event):
        category: str
        commission_bps: int | None

    class MinimumPayoutSet(TenantAggregate.Event):
        amount_minor: int

    class PayoutScheduleSet(TenantAggregate.Event):
        interval: str
        day: int | None

    class ScheduledPayoutsRan(TenantAggregate.Event):
        period: str

    class DisputePolicySet(TenantAggregate.Event):
        fee_payer: str

    class ReturnWindowSet(TenantAggregate.Event):
        days: int

    class SellerSignUpSet(TenantAggregate.Event):
        allowed: bool

    class ShippingCommissionSet(TenantAggregate.Event):
        """Whether commission is taken on shipping too (domain/shipping.py)."""

        taken: bool

    class TaxSet(TenantAggregate.Event):
        """The tenant's tax table (domain/tax.py): whether prices include tax, and its rates."""

        prices_include_tax: bool
        rates: list[dict[str, Any]]

    # Until a tenant says otherwise, buyers may return delivered lines for this many days.
    return_window_days: int = DEFAULT_WINDOW_DAYS

    # Until a tenant says otherwise, anyone may sign up as a seller (and then ask, with
    # `POST /v1/sellers`, to be approved as one).
    seller_signup: bool = True

    # Until a tenant says otherwise, shipping is the seller's, free of commission (API.md).
    commission_on_shipping: bool = False

    # Until a tenant says otherwise, sellers bear the fee of a dispute they lose.
    dispute_fee_payer: str = FeePayer.SELLER.value

    # Until a tenant sets rates, no tax is collected, and prices are without tax.
    tax_record: dict[str, Any] | None = None

    @staticmethod
    def create_id(tenant_id: UUID) -> UUID:
        return tenant_id

    @event(Registered)
    def __init__(
        self,
        tenant_id: UUID,
        name: str,
        currency: str,
        commission_bps: int,
        escrow_hold_days: int,
        product_moderation: str,
        hold_timeout_s: int,
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.currency = currency
        self.commission_bps = commission_bps
        self.escrow_hold_days = escrow_hold_days
        self.product_moderation = product_moderation
        self.hold_timeout_s = hold_timeout_s
        self.category_commission: dict[str, int] = {}
        self.min_payout_minor = 0
        self.payout_schedule: PayoutSchedule | None = None
        self.payouts_ran_period: str | None = None

    @classmethod
    def register(
        cls,
        tenant_id: UUID,
        name: str,
        currency: str,
        commission_bps: int,
        escrow_hold_days: int,
        product_moderation: str = ProductModeration.REQUIRED,
        hold_timeout_s: int = 1800,
    ) -> Tenant:
        name = nfc(name.strip())
        if not 1 <= len(name) <= 200:
            raise InvalidTenantSettings("name must have 1 to 200 characters")
        if tenant_id == PLATFORM_TENANT_ID:
            raise InvalidTenantSettings("tenant zero is the platform itself")
        if not 0 <= commission_bps <= MAX_COMMISSION_BPS:
            raise InvalidTenantSettings("commission_bps must be between 0 and 10000")
        if not 0 <= escrow_hold_days <= MAX_ESCROW_HOLD_DAYS:
            raise InvalidTenantSettings("escrow_hold_days must be between 0 and 365")
        if not 60 <= hold_timeout_s <= 7 * 24 * 3600:
            raise InvalidTenantSettings("hold_timeout_s must be between 60 s and 7 days")
        try:
            moderation = ProductModeration(product_moderation)
        except ValueError:
            raise InvalidTenantSettings("product_moderation must be 'required' or 'auto'") from None
        return cls(
            tenant_id=tenant_id,
            name=name,
            currency=parse_currency(currency),
            commission_bps=commission_bps,
            escrow_hold_days=escrow_hold_days,
            product_moderation=moderation.value,
            hold_timeout_s=hold_timeout_s,
        )

    def check_sign_up(self, role: str) -> Role:
        """The role a person who signs up gets: a buyer, or a seller while the tenant allows
        that. Staff roles are never had for the asking."""
        try:
            wanted = Role(role)
        except ValueError:
            raise InvalidRoles(f"{role!r} is not a role") from None
        if wanted not in SIGN_UP_ROLES:
            raise InvalidRoles(f"one signs up as {' or '.join(sorted(SIGN_UP_ROLES))}")
        if wanted == Role.SELLER and not self.seller_signup:
            raise SellerSignUpClosed("this marketplace does not let sellers sign themselves up")
        return wanted

    # -- its settings' events, applied (their commands are `TenantSettings`') -----------------

    @event(CategoryCommissionSet)
    def _category_commission_set(self, category: str, commission_bps: int | None) -> None:
        if commission_bps is None:
            self.category_commission.pop(category, None)
        else:
            self.category_commission[category] = commission_bps

    @event(MinimumPayoutSet)
    def _minimum_payout_set(self, amount_minor: int) -> None:
        self.min_payout_minor = amount_minor

    @event(PayoutScheduleSet)
    def _payout_schedule_set(self, interval: str, day: int | None) -> None:
        self.payout_schedule = PayoutSchedule(interval, day)

    @event(ScheduledPayoutsRan)
    def _scheduled_payouts_ran(self, period: str) -> None:
        self.payouts_ran_period = period

    @event(DisputePolicySet)
    def _dispute_policy_set(self, fee_payer: str) -> None:
        self.dispute_fee_payer = fee_payer

    @event(ReturnWindowSet)
    def _return_window_set(self, days: int) -> None:
        self.return_window_days = days

    @event(SellerSignUpSet)
    def _seller_signup_set(self, allowed: bool) -> None:
        self.seller_signup = allowed

    @event(ShippingCommissionSet)
    def _shipping_commission_set(self, taken: bool) -> None:
        self.commission_on_shipping = taken

    @event(TaxSet)
    def _tax_set(self, prices_include_tax: bool, rates: list[dict[str, Any]]) -> None:
        self.tax_record = {"prices_include_tax": prices_include_tax, "rates": rates}


class User(TenantAggregate):
    """A person who signs in to one tenant (or to the platform) with an email and a password."""

    class Registered(TenantAggregate.Created):
        personal: ClassVar[Mapping[str, str]] = {"email": "originator_id"}
        secret: ClassVar[frozenset[str]] = frozenset({"password_hash"})
        email: str
        password_hash: str
        roles: list[str]

    class Erased(TenantAggregate.Event):
        """The person asked to be forgotten: their key is destroyed once this is recorded."""

    class PasswordChanged(TenantAggregate.Event):
        """A new password (through a password reset, domain/accounts.py)."""

        secret: ClassVar[frozenset[str]] = frozenset({"password_hash"})
        password_hash: str
        at: datetime

    class SessionsRevoked(TenantAggregate.Event):
        """Every sign-in started up to `at` ends: their refresh tokens are refused from now on
        (domain/accounts.py), without any index of the sessions a person has."""

        at: datetime

    class EmailVerified(TenantAggregate.Event):
        """The person showed they read mail sent to their email (the account's id is the
        event's originator_id). What waits for a verified email, a guest's orders joining the
        buyer's account, reacts to this event."""

        personal: ClassVar[Mapping[str, str]] = {"email": "originator_id"}
        email: str

    # Accounts registered before these existed: never changed, never revoked, not verified.
    password_changed_at: datetime | None = None
    sessions_revoked_at: datetime | None = None
    email_verified: bool = False

    @event(Registered)
    def __init__(self, tenant_id: UUID, email: str, password_hash: str, roles: list[str]) -> None:
        self.tenant_id = tenant_id
        self.email = email
        self.password_hash = password_hash
        self.roles = roles
        self.erased = False

    def change_password(self, password_hash: str, now: datetime) -> None:
        """Takes a new password (hashed already: hashing is the application's, slow on
        purpose) and ends every sign-in the account had, since whoever held the old password
        may hold them."""
        assert not self.erased, "an erased person has no password to change"
        self._password_changed(password_hash=password_hash, at=now)
        self.revoke_sessions(now)

    def revoke_sessions(self, now: datetime) -> None:
        self._sessions_revoked(at=now)

    def verify_email(self) -> None:
        """Notes that the person reads mail sent to their email. Again changes nothing."""
        if not self.email_verified and not self.erased:
            self._email_verified(email=self.email)

    def started_before_revocation(self, started_at: datetime) -> bool:
        """Whether a sign-in started at `started_at` was revoked with every other one since."""
        return self.sessions_revoked_at is not None and started_at <= self.sessions_revoked_at

    @event(PasswordChanged)
    def _password_changed(self, password_hash: str, at: datetime) -> None:
        self.password_hash = password_hash
        self.password_changed_at = at

    @event(SessionsRevoked)
    def _sessions_revoked(self, at: datetime) -> None:
        self.sessions_revoked_at = at

    @event(EmailVerified)
    def _email_verified(self, email: str) -> None:
        self.email_verified = True

    def erase(self) -> None:
        """Forgets the person. Erasing someone already erased changes nothing."""
        if not self.erased:
            self._erased()

    @event(Erased)
    def _erased(self) -> None:
        self.erased = True
        self.email = erased_marker(self.id)
        self.password_hash = ""
        self.roles = []

    @classmethod
    def register(
        cls,
        tenant_id: UUID,
        email: str,
        password: str,
        roles: Iterable[str],
        hasher: PasswordHasher,
    ) -> User:
        # Validate everything cheap first: hashing is deliberately slow.
        normalized = normalize_email(email)
        parsed = parse_roles(roles, tenant_id)
        check_password(password)
        return cls(
            tenant_id=tenant_id, email=normalized, password_hash=hasher.hash(password), roles=parsed
        )

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles


class EmailClaim(TenantAggregate):
    """Claims an email within a tenant for one account. Its id derives from (tenant, email), so a
    second claim of the same email collides in the event store itself, and passing it on to a new
    account conflicts on its version: uniqueness holds under any concurrency. It records only a
    digest of the email, never the address."""

    class Claimed(TenantAggregate.Created):
        # Unsalted, the digest confirms a guessed address: no reader of the history needs it.
        secret: ClassVar[frozenset[str]] = frozenset({"email_key"})
        email_key: str
        user_id: UUID

    class Reclaimed(TenantAggregate.Event):
        """The account that held the email was erased; this new account holds it now."""

        user_id: UUID

    class SignUpAttempted(TenantAggregate.Event):
        """Someone tried to sign up with the email while an account holds it: nothing was
        registered, and the holder is told."""

        user_id: UUID

    @staticmethod
    def digest(email: str) -> str:
        return hashlib.sha256(normalize_email(email).encode()).hexdigest()

    @staticmethod
    def create_id(tenant_id: UUID, email_key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:email:{tenant_id}:{email_key}")

    @classmethod
    def id_for(cls, tenant_id: UUID, email: str) -> UUID:
        return cls.create_id(tenant_id, cls.digest(email))

    @classmethod
    def ids_for(cls, tenant_id: UUID, email: str) -> list[UUID]:
        """Where a claim of this email may be, in order: under its one spelling, then, for
        claims recorded before emails were NFC-normalised, under the email as it is typed."""
        claim_id = cls.id_for(tenant_id, email)
        as_typed = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        older = cls.create_id(tenant_id, as_typed)
        return [claim_id] if older == claim_id else [claim_id, older]

    @event(Claimed)
    def __init__(self, tenant_id: UUID, email_key: str, user_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.email_key = email_key
        self.user_id = user_id
        self.sign_up_attempts = 0

    @classmethod
    def claim(cls, user: User) -> EmailClaim:
        return cls(tenant_id=user.tenant_id, email_key=cls.digest(user.email), user_id=user.id)

    def is_free(self, holder: User | None) -> bool:
        """Whether the email may go to a new account: once the person of the account that holds
        it (`holder`, the claim's user as the log has them now) is erased."""
        return isinstance(holder, User) and holder.id == self.user_id and holder.erased

    def reclaim(self, user: User, holder: User | None) -> None:
        """Passes the email to a new account, once the person who held it was erased."""
        if not self.is_free(holder):
            raise EmailAlreadyRegistered(f"{user.email} is already registered in this tenant")
        assert self.email_key == self.digest(user.email), "the claim of another email"
        assert user.tenant_id == self.tenant_id, "the claim of another tenant"
        self._reclaimed(user_id=user.id)

    def note_sign_up_attempt(self) -> None:
        """Someone tried to sign up with this email while its account holds it."""
        self._sign_up_attempted(user_id=self.user_id)

    @event(Reclaimed)
    def _reclaimed(self, user_id: UUID) -> None:
        self.user_id = user_id

    @event(SignUpAttempted)
    def _sign_up_attempted(self, user_id: UUID) -> None:
        self.sign_up_attempts += 1
