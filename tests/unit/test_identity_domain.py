"""Aggregate tests: the identity rules, table-driven, asserting the events each command records."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.base import PLATFORM_TENANT_ID
from domain.errors import DomainError
from domain.identity import (
    EmailClaim,
    InvalidEmail,
    InvalidRoles,
    InvalidTenantSettings,
    RoleNotGrantable,
    Tenant,
    User,
    WeakPassword,
    check_may_grant,
    normalize_email,
)


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
