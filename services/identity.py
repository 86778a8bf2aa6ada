"""The identity application: tenants, users, sign-up and the platform's super admins. What a
person does to get back into their account (sessions, resets, verification) is
services/accounts.py."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from domain.accounts import EMAIL_VERIFICATION_TTL, AccountToken, EmailVerification, new_secret
from domain.base import PLATFORM_TENANT_ID
from domain.categories import CategoryTree
from domain.credentials import InvalidEmail, PasswordHasher
from domain.identity import (
    EmailAlreadyRegistered,
    EmailClaim,
    Tenant,
    TenantNotFound,
    User,
    UserNotFound,
)
from domain.money import Money
from domain.returns import DEFAULT_WINDOW_DAYS
from domain.roles import Role, check_may_grant, check_platform_sign_up
from domain.tax import TaxTable
from domain.tenant_settings import PayoutSchedule
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from eventstore.log import EventLog
from eventstore.mapper import event_id
from services.account_mail import AccountMail
from services.base import ServiceApplication

log = logging.getLogger("velora.identity")

# The mails of sign-up (projections/mail/templates/): the token that verifies a new account's
# email, and the word to a person that someone tried to sign up with their email.
VERIFY_EMAIL = "verify_email"
SIGN_UP_ATTEMPTED = "sign_up_attempted"


def valid_for(ttl: timedelta) -> str:
    """How long a mailed token lasts, as its mail says it: `30 minutes`, `7 days`."""
    seconds = int(ttl.total_seconds())
    if seconds < 60 or seconds % 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = seconds // 60
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class IdentityApplication(ServiceApplication):
    name = "identity"

    def __init__(
        self,
        log: EventLog,
        hasher: PasswordHasher,
        mail: AccountMail,
        *,
        verification_ttl: timedelta = EMAIL_VERIFICATION_TTL,
        **kwargs: object,
    ) -> None:
        super().__init__(log, **kwargs)  # type: ignore[arg-type]
        self._hasher = hasher
        # Mail about a person's own account, sent off the request's thread (the notifications
        # consumer mails about orders).
        self.mail = mail
        self._verification_ttl = verification_ttl

    @command
    def register_tenant(
        self,
        ctx: CommandContext,
        *,
        name: str,
        currency: str,
        commission_bps: int,
        escrow_hold_days: int,
        product_moderation: str = "required",
        hold_timeout_s: int = 1800,
        min_payout: Money | None = None,
        dispute_fee_payer: str = "seller",
        return_window_days: int = DEFAULT_WINDOW_DAYS,
        seller_signup: bool = True,
        commission_on_shipping: bool = False,
    ) -> CommandResult:
        tenant = Tenant.register(
            tenant_id=uuid4(),
            name=name,
            currency=currency,
            commission_bps=commission_bps,
            escrow_hold_days=escrow_hold_days,
            product_moderation=product_moderation,
            hold_timeout_s=hold_timeout_s,
        )
        if min_payout is not None:
            tenant.set_minimum_payout(min_payout.amount_minor, min_payout.currency)
        if dispute_fee_payer != tenant.dispute_fee_payer:
            tenant.set_dispute_policy(dispute_fee_payer)
        if return_window_days != tenant.return_window_days:
            tenant.set_return_window(return_window_days)
        tenant.set_seller_signup(seller_signup)
        tenant.set_commission_on_shipping(commission_on_shipping)
        return CommandResult(tenant.id, self.record(ctx, tenant))

    @command
    def set_commission_on_shipping(
        self, ctx: CommandContext, tenant_id: UUID, within: UUID | None, taken: bool
    ) -> CommandResult:
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound)
        tenant.set_commission_on_shipping(taken)
        return CommandResult(tenant.id, self.record(ctx, tenant))

    @command
    def set_seller_signup(
        self, ctx: CommandContext, tenant_id: UUID, within: UUID | None, allowed: bool
    ) -> CommandResult:
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound)
        tenant.set_seller_signup(allowed)
        return CommandResult(tenant.id, self.record(ctx, tenant))

    @command
    def set_dispute_policy(
        self, ctx: CommandContext, tenant_id: UUID, within: UUID | None, fee_payer: str
    ) -> CommandResult:
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound)
        tenant.set_dispute_policy(fee_payer)
        return CommandResult(tenant.id, self.record(ctx, tenant))

    @command
    def set_minimum_payout(
        self, ctx: CommandContext, tenant_id: UUID, within: UUID | None, amount: Money
    ) -> CommandResult:
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound)
        tenant.set_minimum_payout(amount.amount_minor, amount.currency)
        return CommandResult(tenant.id, self.record(ctx, tenant))

    @command
    def set_tax(
        self, ctx: CommandContext, tenant_id: UUID, within: UUID | None, table: TaxTable
    ) -> CommandResult:
        """Replaces the tenant's tax table; orders placed before keep the tax they have."""
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound)
        tenant.set_tax(table)
        return CommandResult(tenant.id, self.record(ctx, tenant))

    @command
    def set_payout_schedule(
        self, ctx: CommandContext, tenant_id: UUID, within: UUID | None, schedule: PayoutSchedule
    ) -> CommandResult:
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound)
        tenant.set_payout_schedule(schedule)
        return CommandResult(tenant.id, self.record(ctx, tenant))

    @command
    def note_scheduled_payouts(self, ctx: CommandContext, tenant_id: UUID, period: str) -> bool:
        """Notes that the tenant's scheduled payouts of `period` are made; False if they were
        noted already (by another scheduler, say)."""

        def attempt() -> bool:
            tenant: Tenant = self.repository.get(tenant_id)
            if not tenant.scheduled_payouts_ran(period):
                return False
            self.record(ctx, tenant)
            return True

        return self.retrying(attempt, "too many concurrent changes to this tenant")

    @command
    def register_user(
        self,
        ctx: CommandContext,
        *,
        tenant_id: UUID,
        email: str,
        password: str,
        roles: Iterable[str],
        granter_roles: Iterable[str],
    ) -> CommandResult:
        roles = list(roles)
        check_may_grant(granter_roles, roles)
        self._require_tenant(tenant_id)
        return self._register(ctx, tenant_id, email, password, roles)

    @command
    def sign_up(
        self,
        ctx: CommandContext,
        *,
        tenant_id: UUID,
        email: str,
        password: str,
        role: str = Role.BUYER.value,
    ) -> CommandResult:
        """Registers a buyer, or a seller where the tenant lets sellers sign themselves up (on
        the platform, tenant zero, a seller_pro), and mails a token that verifies the email (its
        `EmailVerification` is saved with the user).
        A sign-up never tells whether an email has an account: with an email an account of the
        tenant holds, nothing is registered, the email's claim records the attempt and its
        holder is mailed, and the answer is shaped as any other (an unused new id, the position
        of that record). The password is hashed either way."""
        if tenant_id == PLATFORM_TENANT_ID:
            if role != Role.SELLER_PRO:  # the platform is no marketplace to buy or sell in
                raise TenantNotFound(f"tenant {tenant_id} not found")
            wanted = check_platform_sign_up(role)
        else:
            tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound, reading=True)
            wanted = tenant.check_sign_up(role)
        user = User.register(tenant_id, email, password, [wanted], self._hasher)
        secret = new_secret()
        verification = EmailVerification.request(
            user, secret, datetime.now(UTC), self._verification_ttl
        )
        try:
            result = self._record_new(ctx, user, email, verification)
        except EmailAlreadyRegistered:
            return self._turn_away(ctx, user, email)
        self.mail.mail(
            VERIFY_EMAIL,
            to=user.email,
            tenant_id=user.tenant_id,
            user_id=user.id,
            notification_id=str(event_id(verification.id, 1)),
            token=str(AccountToken(verification.id, secret)),
            valid_for=valid_for(self._verification_ttl),
        )
        return result

    def sign_up_buyer(
        self, ctx: CommandContext, *, tenant_id: UUID, email: str, password: str
    ) -> CommandResult:
        """Signs up a buyer (see `sign_up`)."""
        return self.sign_up(ctx, tenant_id=tenant_id, email=email, password=password)

    @command
    def ensure_superuser(self, ctx: CommandContext, *, email: str, password: str) -> CommandResult:
        """Creates the platform's super admin, or returns the one that already has this email."""
        claim = self._claim_held(PLATFORM_TENANT_ID, email)
        if claim is not None:
            return CommandResult(claim.user_id, self._log.head(), created=False)
        try:
            return self._register(ctx, PLATFORM_TENANT_ID, email, password, [Role.SUPER_ADMIN])
        except EmailAlreadyRegistered:
            # Two operators raced; the other one won, which is the same outcome.
            claim = self._claim_held(PLATFORM_TENANT_ID, email)
            if claim is None:
                raise
            return CommandResult(claim.user_id, self._log.head(), created=False)

    @command
    def set_category_commission(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        within: UUID | None,
        category: str,
        commission_bps: int | None,
    ) -> CommandResult:
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound)
        tree = self.read_or_none(CategoryTree.create_id(tenant.id))
        if commission_bps is not None and isinstance(tree, CategoryTree):
            category = tree.named(category)  # an override names a real category
        tenant.set_category_commission(category, commission_bps)
        return CommandResult(tenant.id, self.record(ctx, tenant))

    @command
    def erase_user(self, ctx: CommandContext, user_id: UUID, tenant_id: UUID) -> CommandResult:
        """Forgets a person: records that they were erased, then destroys their key, so every
        personal field ever sealed for them reads back redacted. Repeating it changes nothing."""
        user = self.load(User, user_id, tenant_id, UserNotFound)
        user.erase()
        position = self.record(ctx, user)
        self._log.keys.destroy(user.id)
        return CommandResult(user.id, position)

    @command
    def signing_in(self, tenant_id: UUID, email: str) -> User | None:
        """The user who signs in with this email in this tenant, as the log holds them now: a
        sign-in right after the sign-up finds them, and one after their erasure does not."""
        try:
            claim = self._claim_held(tenant_id, email)
        except InvalidEmail:
            return None
        if claim is None:
            return None
        return self.active_user(claim.user_id, tenant_id)

    @command
    def active_user(self, user_id: UUID, tenant_id: UUID) -> User | None:
        """The user a token names, unless they are unknown, of another tenant, or erased: read
        from the log, so an erasure shuts every token at once in every process."""
        user = self.read_or_none(user_id)
        if not isinstance(user, User) or user.tenant_id != tenant_id or user.erased:
            return None
        return user

    def _register(
        self, ctx: CommandContext, tenant_id: UUID, email: str, password: str, roles: list[str]
    ) -> CommandResult:
        user = User.register(tenant_id, email, password, roles, self._hasher)
        return self._record_new(ctx, user, email)

    def _claim_held(self, tenant_id: UUID, email: str) -> EmailClaim | None:
        """The claim through which an account holds this email now (one whose person was
        erased holds it no longer), looked for under every id a claim of it may have."""
        for claim_id in EmailClaim.ids_for(tenant_id, email):
            claim = self.read_or_none(claim_id)
            if isinstance(claim, EmailClaim) and not claim.is_free(
                self.read_or_none(claim.user_id)
            ):
                return claim
        return None

    def _record_new(
        self, ctx: CommandContext, user: User, typed: str, *others: EmailVerification
    ) -> CommandResult:
        """Records a new user with the claim of their email (a new claim, or the claim of an
        account whose person was erased, passed on), and with what else came of it."""
        taken = EmailAlreadyRegistered(f"{user.email} is already registered in this tenant")
        if self._claim_held(user.tenant_id, typed) is not None:
            raise taken
        claim = self.get_or_none(EmailClaim.id_for(user.tenant_id, user.email))
        if claim is None:
            claim = EmailClaim.claim(user)
        else:
            claim.reclaim(user, self.read_or_none(claim.user_id))
        try:
            position = self.record(ctx, user, claim, *others)
        except IntegrityError:
            raise taken from None  # claimed (or passed on) by another sign-up just now
        return CommandResult(user.id, position)

    def _turn_away(self, ctx: CommandContext, user: User, typed: str) -> CommandResult:
        """Answers a sign-up with an email an account holds: records the attempt on the claim,
        mails the holder, and answers with the new user's id, which is never recorded."""

        def attempt() -> tuple[EmailClaim | None, int]:
            held = self._claim_held(user.tenant_id, typed)
            if held is None:
                # Its person was erased a moment ago: nobody to tell, and the caller, answered
                # as always, may sign up again.
                return None, self._log.head()
            claim: EmailClaim = self.repository.get(held.id)
            claim.note_sign_up_attempt()
            return claim, self.record(ctx, claim)

        claim, position = self.retrying(attempt, "too many sign-ups with this email at once")
        holder = self.read_or_none(claim.user_id) if claim is not None else None
        if claim is not None and isinstance(holder, User) and not holder.erased:
            self.mail.mail(
                SIGN_UP_ATTEMPTED,
                to=holder.email,
                tenant_id=claim.tenant_id,
                user_id=claim.user_id,
                notification_id=str(event_id(claim.id, claim.version)),
            )
        return CommandResult(user.id, position)

    def _require_tenant(self, tenant_id: UUID) -> None:
        if tenant_id == PLATFORM_TENANT_ID:
            return
        if self.read_or_none(tenant_id) is None:
            raise TenantNotFound(f"tenant {tenant_id} not found")
