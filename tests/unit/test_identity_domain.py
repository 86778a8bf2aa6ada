"""Aggregate tests: the identity rules, table-driven, asserting the events each command records."""

from __future__ import annotations

import hashlib
import unicodedata
from uuid import UUID, uuid4

import pytest

from domain.base import PLATFORM_TENANT_ID
from domain.credentials import InvalidEmail, WeakPassword, normalize_email
from domain.errors import DomainError
from domain.identity import EmailAlreadyRegistered, EmailClaim, Tenant, User
from domain.roles import InvalidRoles, RoleNotGrantable, check_may_grant
from domain.tenant_settings import InvalidTenantSettings


class PlainHasher:
    """Implements the PasswordHasher port reversibly, to make the recorded hash visible."""

    def hash(self, password: str) -> str:
        return f"hashed:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"hashed:{password}"


VALID = {"name": "Acme", "currency": "USD", "commission_bps": 1000, "escrow_hold_days": 7}


def test_registering_a_tenant_records_one_event_carrying_its_own_id_as_tenant() -> None:
    tenant_id = uuid4()
    tenant = Tenant.register(tenant_id=tenant_id, **VALID)  # type: ignore[arg-type]
    (registered,) = tenant.collect_events()
    assert isinstance(registered, Tenant.Registered)
    assert tenant.id == registered.tenant_id == tenant_id
    assert (registered.currency, registered.commission_bps) == ("USD", 1000)
    assert registered.product_moderation == "required" and registered.hold_timeout_s == 1800


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"name": ""}, InvalidTenantSettings),
        ({"name": "x" * 201}, InvalidTenantSettings),
        ({"currency": "usd"}, DomainError),
        ({"currency": "US"}, DomainError),
        ({"commission_bps": -1}, InvalidTenantSettings),
        ({"commission_bps": 10_001}, InvalidTenantSettings),
        ({"escrow_hold_days": -1}, InvalidTenantSettings),
        ({"escrow_hold_days": 366}, InvalidTenantSettings),
        ({"product_moderation": "sometimes"}, InvalidTenantSettings),
        ({"hold_timeout_s": 59}, InvalidTenantSettings),
    ],
)
def test_tenant_settings_out_of_bounds_are_refused(change: dict, error: type) -> None:
    with pytest.raises(error):
        Tenant.register(tenant_id=uuid4(), **{**VALID, **change})


def test_the_platform_is_not_a_tenant_one_can_register() -> None:
    with pytest.raises(InvalidTenantSettings):
        Tenant.register(tenant_id=PLATFORM_TENANT_ID, **VALID)  # type: ignore[arg-type]


def test_a_user_records_a_normalized_email_a_hash_and_sorted_roles() -> None:
    tenant_id = uuid4()
    user = User.register(
        tenant_id, "  Ann@Example.COM ", "s3cret-pass", ["seller", "buyer"], PlainHasher()
    )
    (registered,) = user.collect_events()
    assert isinstance(registered, User.Registered)
    assert registered.tenant_id == tenant_id
    assert registered.email == "ann@example.com"
    assert registered.password_hash == "hashed:s3cret-pass"
    assert registered.roles == ["buyer", "seller"]


@pytest.mark.parametrize(
    ("tenant", "email", "password", "roles", "error"),
    [
        ("t", "no-at-sign", "long-enough", ["buyer"], InvalidEmail),
        ("t", "a@b", "long-enough", ["buyer"], InvalidEmail),
        ("t", "a@b.co", "short", ["buyer"], WeakPassword),
        ("t", "a@b.co", "x" * 257, ["buyer"], WeakPassword),
        ("t", "a@b.co", "long-enough", [], InvalidRoles),
        ("t", "a@b.co", "long-enough", ["wizard"], InvalidRoles),
        ("t", "a@b.co", "long-enough", ["super_admin"], InvalidRoles),
        ("platform", "a@b.co", "long-enough", ["buyer"], InvalidRoles),
        ("platform", "a@b.co", "long-enough", ["marketplace_admin"], InvalidRoles),
    ],
)
def test_invalid_users_are_refused_before_any_hashing(
    tenant: str, email: str, password: str, roles: list[str], error: type
) -> None:
    class RefusingHasher(PlainHasher):
        def hash(self, password: str) -> str:
            raise AssertionError("hashed an invalid user")

    tenant_id = PLATFORM_TENANT_ID if tenant == "platform" else uuid4()
    with pytest.raises(error):
        User.register(tenant_id, email, password, roles, RefusingHasher())


@pytest.mark.parametrize(
    ("granter", "roles", "allowed"),
    [
        (["super_admin"], ["finance_admin", "auditor"], True),
        (["super_admin"], ["marketplace_admin"], True),
        (["marketplace_admin"], ["buyer", "seller", "marketplace_admin"], True),
        (["marketplace_admin"], ["finance_admin"], False),
        (["marketplace_admin"], ["auditor"], False),
        (["marketplace_admin"], ["super_admin"], False),
        (["seller"], ["buyer"], False),
        (["buyer"], ["buyer"], False),
        (["finance_admin"], ["buyer"], False),
    ],
)
def test_who_may_grant_which_roles(granter: list[str], roles: list[str], allowed: bool) -> None:
    if allowed:
        check_may_grant(granter, roles)
    else:
        with pytest.raises(RoleNotGrantable):
            check_may_grant(granter, roles)


def test_an_email_claim_is_the_same_aggregate_for_any_spelling_within_a_tenant() -> None:
    tenant_a, tenant_b = uuid4(), uuid4()
    user = User.register(tenant_a, "Ann@Example.com", "long-enough", ["buyer"], PlainHasher())
    claim = EmailClaim.claim(user)
    assert claim.id == EmailClaim.id_for(tenant_a, " ann@EXAMPLE.com")
    assert claim.id != EmailClaim.id_for(tenant_b, "ann@example.com")
    (claimed,) = claim.collect_events()
    assert claimed.user_id == user.id and claimed.tenant_id == tenant_a
    assert "ann" not in claimed.email_key  # a digest, never the address


def test_every_event_after_the_first_inherits_the_tenant() -> None:
    from tests.aggregates import Counter

    tenant_id = uuid4()
    counter = Counter(tenant_id=tenant_id)
    counter.increment(by=2)
    assert [e.tenant_id for e in counter.collect_events()] == [tenant_id, tenant_id]


def test_normalize_email() -> None:
    assert normalize_email(" A@B.CO ") == "a@b.co"


def test_an_email_is_compared_nfc_normalised() -> None:
    composed, decomposed = "caf\u00e9@x.io", "cafe\u0301@x.io"
    assert unicodedata.normalize("NFC", decomposed) == composed != decomposed
    assert normalize_email(decomposed) == normalize_email(composed) == composed
    assert normalize_email(" CAFE\u0301@X.IO ") == composed
    tenant_id = uuid4()
    assert EmailClaim.id_for(tenant_id, decomposed) == EmailClaim.id_for(tenant_id, composed)
    # A claim recorded before normalising, under the email as typed, is still found.
    older = EmailClaim.create_id(tenant_id, hashlib.sha256(decomposed.encode()).hexdigest())
    assert EmailClaim.ids_for(tenant_id, decomposed) == [
        EmailClaim.id_for(tenant_id, composed),
        older,
    ]
    assert EmailClaim.ids_for(tenant_id, composed) == [EmailClaim.id_for(tenant_id, composed)]


def registered(email: str = "ann@example.com", tenant_id: UUID | None = None) -> User:
    user = User.register(tenant_id or uuid4(), email, "long-enough", ["buyer"], PlainHasher())
    user.collect_events()
    return user


def test_an_email_passes_to_a_new_account_only_once_its_holder_is_erased() -> None:
    holder = registered()
    claim = EmailClaim.claim(holder)
    claim.collect_events()
    newcomer = registered(" ANN@example.com", holder.tenant_id)

    with pytest.raises(EmailAlreadyRegistered):
        claim.reclaim(newcomer, holder)
    with pytest.raises(EmailAlreadyRegistered):
        claim.reclaim(newcomer, None)  # an account the log does not have holds nothing new
    assert claim.collect_events() == []

    holder.erase()
    assert claim.is_free(holder)
    claim.reclaim(newcomer, holder)
    (reclaimed,) = claim.collect_events()
    assert isinstance(reclaimed, EmailClaim.Reclaimed)
    assert claim.user_id == reclaimed.user_id == newcomer.id
    with pytest.raises(EmailAlreadyRegistered):
        claim.reclaim(registered(tenant_id=holder.tenant_id), newcomer)


def test_a_sign_up_attempt_on_a_held_email_is_recorded_for_its_holder() -> None:
    holder = registered()
    claim = EmailClaim.claim(holder)
    claim.collect_events()
    claim.note_sign_up_attempt()
    claim.note_sign_up_attempt()
    events = claim.collect_events()
    assert [type(e) for e in events] == [EmailClaim.SignUpAttempted] * 2
    assert {e.user_id for e in events if isinstance(e, EmailClaim.SignUpAttempted)} == {holder.id}
    assert claim.user_id == holder.id and claim.sign_up_attempts == 2
