"""What the generated-request runs share: a marketplace staffed with one real user per role, and
a guest with its publishable key, so schemathesis reaches every route as each caller API.md
names, and the check every answer must pass: never a 5xx, and every error problem+json."""

from __future__ import annotations

from typing import Any

import schemathesis

from api.bootstrap import Container
from domain.base import PLATFORM_TENANT_ID
from domain.roles import Role
from eventstore.context import CommandContext
from eventstore.currencies import iso_4217

ROLES = ("anonymous", *(role.value for role in Role), "guest")
PASSWORD = "long-enough-pw"


def staffed(container: Container) -> dict[str, dict[str, str]]:
    """The headers each role sends: one marketplace, one user per role, an approved seller."""
    ctx = CommandContext.system("fuzz")
    identity = container.identity
    root = identity.ensure_superuser(ctx, email="root@fuzz.test", password=PASSWORD).id
    tenant = identity.register_tenant(
        ctx, name="Fuzz", currency="USD", commission_bps=1000, escrow_hold_days=7
    ).id
    headers: dict[str, dict[str, str]] = {"anonymous": {}}

    def signed_in(user_id: Any, tenant_id: Any, role: str) -> None:
        token = container.tokens.issue(str(user_id), str(tenant_id), [role])
        headers[role] = {"Authorization": f"Bearer {token}"}

    signed_in(root, PLATFORM_TENANT_ID, "super_admin")
    for role in (r.value for r in Role if r is not Role.SUPER_ADMIN):
        where = PLATFORM_TENANT_ID if role in ("finance_admin", "auditor", "seller_pro") else tenant
        user = identity.register_user(
            ctx,
            tenant_id=where,
            email=f"{role}@fuzz.test",
            password=PASSWORD,
            roles=[role],
            granter_roles=["super_admin"],
        ).id
        signed_in(user, where, role)
        if role == "seller":
            seller = container.sellers.register_seller(
                ctx, tenant_id=tenant, user_id=user, display_name="Fuzz shop", country="DE"
            ).id
            container.sellers.approve(ctx, seller, None)
    key = container.storefront.create_key(
        ctx,
        tenant,
        tenant,
        "Fuzz shop",
        origin="fuzz",
        secret_of=lambda key_id: container.tokens.derived_secret("publishable_key", key_id),
    ).key
    headers["guest"] = {"X-Velora-Publishable-Key": key}
    return headers


def check(case: schemathesis.Case, response: Any) -> None:
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers["x-content-type-options"] == ["nosniff"], (case.method, case.path)
    if response.status_code >= 400:
        assert headers["content-type"][0].startswith("application/problem+json")
        assert headers["cache-control"] == ["no-store"], (case.method, case.path)
        assert response.json()["status"] == response.status_code
    if case.method == "POST" and case.path == "/v1/tenants" and response.status_code == 201:
        # A generated code of the right shape is rarely a currency: only ISO 4217's are taken.
        assert case.body["currency"] in iso_4217(), case.body
