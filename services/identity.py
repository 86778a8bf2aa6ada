"""The identity application: tenants, users, sign-up and the platform's super admins."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from domain.base import PLATFORM_TENANT_ID
from domain.categories import CategoryTree
from domain.identity import (
    EmailAlreadyRegistered,
    EmailClaim,
    InvalidEmail,
    PasswordHasher,
    PayoutSchedule,
    Role,
    Tenant,
    TenantNotFound,
    User,
    UserNotFound,
    check_may_grant,
)
from domain.money import Money
from domain.returns import DEFAULT_WINDOW_DAYS
from eventstore.application import CommandResult, VeloraApplication, command
from eventstore.context import CommandContext
from eventstore.log import EventLog


class IdentityApplication(VeloraApplication):
    name = "identity"

    def __init__(self, log: EventLog, hasher: PasswordHasher, **kwargs: object) -> None:
        super().__init__(log, **kwargs)  # type: ignore[arg-type]
        self._hasher = hasher

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
    def sign_up_buyer(
        self, ctx: CommandContext, *, tenant_id: UUID, email: str, password: str
    ) -> CommandResult:
        if tenant_id == PLATFORM_TENANT_ID:
            raise TenantNotFound(f"tenant {tenant_id} not found")
        self._require_tenant(tenant_id)
        return self._register(ctx, tenant_id, email, password, [Role.BUYER])

    @command
    def ensure_superuser(self, ctx: CommandContext, *, email: str, password: str) -> CommandResult:
        """Creates the platform's super admin, or returns the one that already has this email."""
        claim = self.get_or_none(EmailClaim.id_for(PLATFORM_TENANT_ID, email))
        if claim is not None:
            return CommandResult(claim.user_id, self._log.head(), created=False)
        try:
            return self._register(ctx, PLATFORM_TENANT_ID, email, password, [Role.SUPER_ADMIN])
        except EmailAlreadyRegistered:
            # Two operators raced; the other one won, which is the same outcome.
            claim = self.repository.get(EmailClaim.id_for(PLATFORM_TENANT_ID, email))
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
            claim = self.read_or_none(EmailClaim.id_for(tenant_id, email))
        except InvalidEmail:
            return None
        if not isinstance(claim, EmailClaim):
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
        claim = EmailClaim.claim(user)
        try:
            position = self.record(ctx, user, claim)
        except IntegrityError:
            raise EmailAlreadyRegistered(
                f"{user.email} is already registered in this tenant"
            ) from None
        return CommandResult(user.id, position)

    def _require_tenant(self, tenant_id: UUID) -> None:
        if tenant_id == PLATFORM_TENANT_ID:
            return
        if self.read_or_none(tenant_id) is None:
            raise TenantNotFound(f"tenant {tenant_id} not found")
