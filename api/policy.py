"""Who may do what: the one table of permissions, checked by the `Allowed` dependency."""

from __future__ import annotations

from domain.identity import CROSS_TENANT_ROLES, Role

ANYONE_SIGNED_IN = frozenset(Role)

PERMISSIONS: dict[str, frozenset[Role]] = {
    "tenants:create": frozenset({Role.SUPER_ADMIN}),
    "tenants:read": frozenset(
        {Role.SUPER_ADMIN, Role.MARKETPLACE_ADMIN, Role.FINANCE_ADMIN, Role.AUDITOR}
    ),
    "users:create": frozenset({Role.SUPER_ADMIN, Role.MARKETPLACE_ADMIN}),
    "users:read": frozenset({Role.SUPER_ADMIN, Role.MARKETPLACE_ADMIN}),
    "me:read": ANYONE_SIGNED_IN,
}


def roles_for(action: str) -> frozenset[str]:
    return frozenset(r.value for r in PERMISSIONS[action])


def crosses_tenants(roles: frozenset[str]) -> bool:
    return bool(roles & {r.value for r in CROSS_TENANT_ROLES})
