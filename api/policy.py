"""Who may do what: the one table of permissions, checked by the `Allowed` dependency."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from domain.roles import CROSS_TENANT_ROLES, Role


class Visitor(StrEnum):
    """Callers without an account. A guest came with a publishable key and no token
    (domain/storefront.py): it reads its key's tenant's public catalog. `guest` is a pseudo-role:
    no account has it and no token carries it (TokenService refuses one that claims it), so only
    the key check in api/deps.py gives it."""

    GUEST = "guest"


ANYONE_SIGNED_IN = frozenset(Role)
# API.md's "anyone in tenant": every role but seller_pro, a platform user that acts inside a
# tenant only with that tenant's marketplace token, whose role is seller.
IN_A_TENANT = ANYONE_SIGNED_IN - {Role.SELLER_PRO}
# API.md's "anyone in tenant, guests": those, and the guests of a key.
ANYONE_AND_GUESTS: frozenset[Role | Visitor] = IN_A_TENANT | {Visitor.GUEST}

PERMISSIONS: dict[str, frozenset[Role | Visitor]] = {
    "audit:read": frozenset({Role.AUDITOR, Role.SUPER_ADMIN}),
    "ops:read": frozenset({Role.SUPER_ADMIN}),
    "ops:replay": frozenset({Role.SUPER_ADMIN}),
    "tenants:create": frozenset({Role.SUPER_ADMIN}),
    "tenants:read": frozenset({Role.SUPER_ADMIN, Role.MARKETPLACE_ADMIN, Role.FINANCE_ADMIN}),
    # Whether people may sign themselves up as sellers: the marketplace's call (the platform's
    # super admin sets it at creation, and may change it as it changes the tenant's users).
    "tenants:seller_signup": frozenset({Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN}),
    "tenants:shipping_commission": frozenset({Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN}),
    # The tax the marketplace collects (API.md "Tax"): set by its admin, read by finance too.
    "tax:configure": frozenset({Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN}),
    "tax:read": frozenset({Role.MARKETPLACE_ADMIN, Role.FINANCE_ADMIN, Role.SUPER_ADMIN}),
    "tax:report": frozenset({Role.FINANCE_ADMIN}),
    # Promotions (API.md "Promotions"): a marketplace admin's, and a seller's own.
    "promotions:manage": frozenset({Role.MARKETPLACE_ADMIN, Role.SELLER}),
    "shipping:manage": frozenset({Role.SELLER}),
    "shipping:read": ANYONE_AND_GUESTS,
    # A storefront's publishable keys: the marketplace's, as its users are.
    "publishable_keys:manage": frozenset({Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN}),
    "publishable_keys:read": frozenset({Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN}),
    # Webhooks to other apps (API.md "Webhooks to other apps"): the marketplace's own.
    "webhooks:manage": frozenset({Role.MARKETPLACE_ADMIN}),
    "users:create": frozenset({Role.SUPER_ADMIN, Role.MARKETPLACE_ADMIN}),
    "users:read": frozenset({Role.SUPER_ADMIN, Role.MARKETPLACE_ADMIN}),
    "me:read": ANYONE_SIGNED_IN,
    "sellers:create": frozenset({Role.SELLER}),
    # Seller Pro (docs/api-seller-pro.md): a seller_pro founds and runs its own organisation
    # (api/routes/organisations.py confines it there); the platform's super admin may read one.
    "organisations:found": frozenset({Role.SELLER_PRO}),
    "organisations:act": frozenset({Role.SELLER_PRO}),
    "organisations:read": frozenset({Role.SELLER_PRO, Role.SUPER_ADMIN}),
    "sellers:moderate": frozenset({Role.MARKETPLACE_ADMIN}),
    "sellers:payout_account": frozenset({Role.SELLER, Role.MARKETPLACE_ADMIN}),
    # API.md: "admin; the seller itself". Finance reads a seller's profile as it reads its
    # balance and payouts.
    "sellers:read": frozenset(
        {Role.SELLER, Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN, Role.FINANCE_ADMIN}
    ),
    # One seller's profile: in full for the roles above; a guest gets an approved seller's
    # public profile (`can_see_seller`, the route's public shape). Buyers keep v1's 403.
    "sellers:profile": frozenset(
        {Role.SELLER, Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN, Role.FINANCE_ADMIN, Visitor.GUEST}
    ),
    "products:create": frozenset({Role.SELLER}),
    "products:edit": frozenset({Role.SELLER}),
    "products:moderate": frozenset({Role.MARKETPLACE_ADMIN}),
    "products:feature": frozenset({Role.MARKETPLACE_ADMIN}),
    "products:read": ANYONE_AND_GUESTS,
    "commission:set": frozenset({Role.MARKETPLACE_ADMIN}),
    "plans:read": IN_A_TENANT,
    "plans:manage": frozenset({Role.MARKETPLACE_ADMIN}),
    "sellers:plan": frozenset({Role.SELLER}),
    "categories:read": ANYONE_AND_GUESTS,
    "search:read": ANYONE_AND_GUESTS,
    "categories:manage": frozenset({Role.MARKETPLACE_ADMIN}),
    # A guest's cart and checkout: its cart token opens the cart (api/deps.py `cart_holder`).
    "carts:use": frozenset({Role.BUYER, Visitor.GUEST}),
    "wishlist:use": frozenset({Role.BUYER}),
    "checkout": frozenset({Role.BUYER, Visitor.GUEST}),
    # A guest reads one order, with its order token (api/routes/orders.py), and lists none.
    "orders:read": frozenset(
        {Role.BUYER, Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN, Role.FINANCE_ADMIN, Visitor.GUEST}
    ),
    "orders:cancel": frozenset({Role.BUYER, Role.MARKETPLACE_ADMIN}),
    "seller_orders:read": frozenset(
        {Role.SELLER, Role.MARKETPLACE_ADMIN, Role.SUPER_ADMIN, Role.FINANCE_ADMIN}
    ),
    "seller_orders:ship": frozenset({Role.SELLER}),
    "seller_orders:deliver": frozenset({Role.SELLER, Role.MARKETPLACE_ADMIN}),
    "reviews:write": frozenset({Role.BUYER}),
    "reviews:moderate": frozenset({Role.MARKETPLACE_ADMIN}),
    "reviews:reply": frozenset({Role.SELLER}),
    "ledger:read": frozenset({Role.FINANCE_ADMIN, Role.AUDITOR}),
    "reconciliation:read": frozenset({Role.FINANCE_ADMIN, Role.AUDITOR}),
    "payouts:run": frozenset({Role.FINANCE_ADMIN}),
    "payouts:schedule": frozenset({Role.FINANCE_ADMIN}),
    "payouts:configure": frozenset({Role.FINANCE_ADMIN, Role.MARKETPLACE_ADMIN}),
    "disputes:configure": frozenset({Role.FINANCE_ADMIN}),
    "reports:read": frozenset({Role.FINANCE_ADMIN, Role.MARKETPLACE_ADMIN}),
    "analytics:marketplace": frozenset({Role.FINANCE_ADMIN, Role.MARKETPLACE_ADMIN}),
    "analytics:seller": frozenset({Role.SELLER, Role.FINANCE_ADMIN, Role.MARKETPLACE_ADMIN}),
    "payouts:read": frozenset({Role.SELLER, Role.FINANCE_ADMIN}),
    "returns:request": frozenset({Role.BUYER}),
    "returns:ship": frozenset({Role.BUYER}),
    "returns:decide": frozenset({Role.SELLER, Role.MARKETPLACE_ADMIN}),
    "returns:receive": frozenset({Role.SELLER}),
    "returns:read": frozenset({Role.BUYER, Role.SELLER, Role.MARKETPLACE_ADMIN}),
    "refunds:request": frozenset({Role.BUYER, Role.MARKETPLACE_ADMIN}),
    "refunds:decide": frozenset({Role.SELLER, Role.MARKETPLACE_ADMIN}),
    "refunds:read": frozenset(
        {
            Role.BUYER,
            Role.SELLER,
            Role.MARKETPLACE_ADMIN,
            Role.SUPER_ADMIN,
            Role.FINANCE_ADMIN,
        }
    ),
}

# Roles that see and manage a whole tenant's sellers and catalog, beyond their own.
ADMINS = frozenset({Role.MARKETPLACE_ADMIN.value, Role.SUPER_ADMIN.value, Role.FINANCE_ADMIN.value})

# The auditor reads across tenants, but only the audit trail, the books (with their reconciliation
# with the payment provider) and its own profile, and changes nothing but its own profile,
# addresses and erasure (what API.md gives "any user").
# Checked for every signed-in request, so no route can forget it.
AUDITOR_READS = ("/v1/audit/", "/v1/ledger/", "/v1/reconciliation", "/v1/me")


def within_reach(roles: frozenset[str], method: str, path: str) -> bool:
    if roles - {Role.AUDITOR.value}:
        return True  # any other role: the permission table decides
    if path == "/v1/me" or path.startswith("/v1/me/addresses"):
        return True  # their own profile and addresses, and their erasure
    return method in ("GET", "HEAD") and path.startswith(AUDITOR_READS)


# A marketplace token acts as the organisation's seller in one marketplace, nothing more: the
# account behind it (its profile, addresses, sessions, erasure) is the seller_pro's platform
# account, reached with its own sign-in.
ACCOUNT_PATHS = ("/v1/me", "/v1/auth/")


def as_marketplace_seller(path: str) -> bool:
    """Whether a marketplace token may call this path (anything but the account's own)."""
    return not path.startswith(ACCOUNT_PATHS)


def roles_for(action: str) -> frozenset[str]:
    return frozenset(r.value for r in PERMISSIONS[action])


def is_guest(roles: frozenset[str]) -> bool:
    """Whether the caller is a guest: a publishable key and no token."""
    return Visitor.GUEST.value in roles


def crosses_tenants(roles: frozenset[str]) -> bool:
    return bool(roles & {r.value for r in CROSS_TENANT_ROLES})


def is_admin(roles: frozenset[str]) -> bool:
    """Whether the caller oversees its whole tenant (reads every seller's and product's data),
    rather than only its own."""
    return bool(roles & ADMINS)


def acts_as_seller(roles: frozenset[str]) -> bool:
    """Whether the caller acts as a seller (for its own), not for the marketplace."""
    return Role.SELLER.value in roles and not acts_for_marketplace(roles)


def acts_for_marketplace(roles: frozenset[str]) -> bool:
    """Whether the caller's commands act for the marketplace, on any buyer's or seller's order
    or refund of its tenant, rather than only as that buyer or seller."""
    return Role.MARKETPLACE_ADMIN.value in roles


def can_see_seller(roles: frozenset[str], own_seller_id: str, seller: dict[str, Any]) -> bool:
    """Admins see every seller of their scope; a seller user sees only its own; a guest sees
    the public profile of a seller whose products are on sale (approved), and of no other."""
    if is_guest(roles):
        return bool(seller["status"] == "approved")
    return is_admin(roles) or seller["seller_id"] == own_seller_id


def can_see_product(roles: frozenset[str], own_seller_id: str, product: dict[str, Any]) -> bool:
    """Admins see every product; a seller its own in any state; everyone else only what can be
    bought: active products of approved sellers."""
    if is_admin(roles) or (product["seller_id"] == own_seller_id and not is_guest(roles)):
        return True
    return bool(product["status"] == "active" and product["seller_status"] == "approved")
