"""Roles: what a user is within its tenant (or on the platform), which of them reach across
tenants, and who may grant or sign up for which. What each role may do is the permission table's
(api/policy.py)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from uuid import UUID

from domain.base import PLATFORM_TENANT_ID
from domain.errors import DomainError, Invalid, NotAllowed


class RoleError(DomainError):
    """Base of the roles' errors (the identity context)."""


class InvalidRoles(RoleError, Invalid):
    title = "Invalid roles"


class RoleNotGrantable(RoleError, NotAllowed):
    title = "Role not grantable"


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    MARKETPLACE_ADMIN = "marketplace_admin"
    FINANCE_ADMIN = "finance_admin"
    AUDITOR = "auditor"
    SUPER_ADMIN = "super_admin"
    # A business selling on several marketplaces: a platform user, confined to its organisation
    # (domain/organisations.py), and in each marketplace it joined, that tenant's seller.
    SELLER_PRO = "seller_pro"


# These roles act across tenants; everyone else acts only inside the tenant of their token.
CROSS_TENANT_ROLES = frozenset({Role.FINANCE_ADMIN, Role.AUDITOR, Role.SUPER_ADMIN})
# The platform's own users (tenant zero): its cross-tenant staff, and Seller Pro businesses.
PLATFORM_ROLES = CROSS_TENANT_ROLES | {Role.SELLER_PRO}
# What a tenant's own marketplace admin may hand out: nothing that reaches beyond the tenant.
TENANT_ADMIN_GRANTABLE = frozenset({Role.BUYER, Role.SELLER, Role.MARKETPLACE_ADMIN})
# What a person may make themselves by signing up: a buyer, or a seller where the tenant lets
# sellers sign themselves up (`Tenant.seller_signup`); on the platform, a Seller Pro.
SIGN_UP_ROLES = frozenset({Role.BUYER, Role.SELLER})
PLATFORM_SIGN_UP_ROLES = frozenset({Role.SELLER_PRO})


def parse_roles(roles: Iterable[str], tenant_id: UUID) -> list[str]:
    """Validates a role set for a user of the given tenant and returns it sorted."""
    try:
        parsed = {Role(r) for r in roles}
    except ValueError as e:
        raise InvalidRoles(str(e)) from None
    if not parsed:
        raise InvalidRoles("a user needs at least one role")
    if tenant_id == PLATFORM_TENANT_ID:
        outside = parsed - PLATFORM_ROLES
        if outside:
            raise InvalidRoles(f"platform users cannot hold {sorted(outside)}")
        if Role.SELLER_PRO in parsed and len(parsed) > 1:
            raise InvalidRoles("a seller_pro is a business, not also platform staff")
    elif parsed & {Role.SUPER_ADMIN, Role.SELLER_PRO}:
        raise InvalidRoles("super_admin and seller_pro exist only on the platform, not in a tenant")
    return sorted(parsed)


def check_platform_sign_up(role: str) -> Role:
    """The role a person who signs up on the platform itself (no tenant) gets: only seller_pro;
    platform staff are never had for the asking."""
    if role != Role.SELLER_PRO:
        raise InvalidRoles("on the platform, one signs up as seller_pro only")
    return Role.SELLER_PRO


def check_may_grant(granter_roles: Iterable[str], roles: Iterable[str]) -> None:
    """A super admin grants anything; a marketplace admin only roles confined to its tenant."""
    granter = set(granter_roles)
    if Role.SUPER_ADMIN in granter:
        return
    allowed = TENANT_ADMIN_GRANTABLE if Role.MARKETPLACE_ADMIN in granter else frozenset()
    beyond = set(roles) - allowed
    if beyond:
        raise RoleNotGrantable(f"you may not grant {sorted(beyond)}")
