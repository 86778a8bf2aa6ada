"""FastAPI dependencies: the container, the caller, their tenant scope, permissions,
pagination, read-your-writes and the command context every command is recorded under.

**Who calls.** A request with `Authorization: Bearer <token>` is the signed-in user the token
names. A request without one but with `X-Velora-Publishable-Key: pk_…` is a guest of that key's
tenant (domain/storefront.py): a `Principal` whose one role is the pseudo-role `guest`. A token
always wins: with one, the key is not even looked at, so a signed-in buyer behaves exactly as
without it. `Caller` is either; `CurrentUser` is a signed-in user only (a guest gets 401), and
`Allowed(action)` lets a guest through only where the permission table (api/policy.py) names
`guest` for the action, answering 401 elsewhere. `Scope` and `ReadAfter` take a `Caller`, so on
the routes a guest may call its tenant is its key's; every route that takes them also takes
`Allowed` or `CurrentUser` (tests/e2e/guest_scenarios.py walks the routes to keep it so)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import Depends, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.bootstrap import Container
from api.logs import bind_request
from api.media import MediaUrls
from api.operations import Operations
from api.policy import (
    acts_for_marketplace,
    as_marketplace_seller,
    can_see_seller,
    crosses_tenants,
    is_guest,
    roles_for,
    within_reach,
)
from api.problems import Problem
from api.ratelimit import RateLimits
from api.security import GUEST, Argon2Hasher, InvalidToken, Principal, TokenService
from domain.media import BlobStore
from domain.sellers import seller_id_for
from domain.storefront import PresentedKey
from eventstore.application import CommandResult
from eventstore.context import CommandContext
from eventstore.log import EventLog
from eventstore.verify import Verifier
from projections.analytics.queries import AnalyticsQueries
from projections.catalog.queries import CatalogQueries
from projections.categories.queries import CategoryQueries
from projections.identity.queries import IdentityQueries
from projections.ledger.queries import LedgerQueries
from projections.orders.queries import OrderQueries
from projections.organisations.dashboard import OrganisationDashboard
from projections.organisations.master_queries import MasterCatalogQueries
from projections.organisations.queries import OrganisationQueries
from projections.personal import PersonalData
from projections.profiles.queries import ProfileQueries
from projections.promotions.queries import PromotionQueries
from projections.reconciliation.queries import ReconciliationQueries
from projections.scope import TenantScope
from projections.search.port import SearchIndex
from projections.store import MAX_LIMIT, ReadStore
from projections.storefront.queries import StorefrontQueries
from projections.webhooks.queries import WebhookQueries
from projections.wishlists.queries import WishlistQueries
from services.audit import AuditTrail
from services.catalog import CatalogApplication
from services.categories import CategoryApplication
from services.checkout import CheckoutApplication
from services.disputes import DisputeApplication
from services.fulfilment import FulfilmentApplication
from services.identity import IdentityApplication
from services.organisations import OrganisationsApplication
from services.payout_runs import PayoutRuns
from services.payouts import PayoutApplication
from services.profiles import ProfileApplication
from services.promotions import PromotionsApplication
from services.refunds import RefundApplication
from services.returns import ReturnApplication
from services.sellers import SellerApplication
from services.storefront import StorefrontApplication
from services.webhooks import WebhooksApplication
from services.wishlists import WishlistApplication

POSITION_HEADER = "X-Velora-Position"
MIN_POSITION_HEADER = "X-Velora-Min-Position"
PUBLISHABLE_KEY_HEADER = "X-Velora-Publishable-Key"
# What opens a guest's cart, and a guest's order (api/security.py `TokenService.capability`).
CART_TOKEN_HEADER = "X-Velora-Cart-Token"  # noqa: S105 (a header's name)
ORDER_TOKEN_HEADER = "X-Velora-Order-Token"  # noqa: S105
READ_WAIT_S = 5.0
# Where a request's already-checked (token, Principal) waits for its route.
AUTHENTICATED = "velora_authenticated"


# A dependency that only reads the request or the container is `async def`: FastAPI runs each
# plain `def` dependency in its thread pool, a hand-off (and its CPU) per dependency per request.
# Those that read the log or a database (the caller's account, a guest's cart) stay `def`.
async def get_container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


ContainerDep = Annotated[Container, Depends(get_container)]


def _part(attribute: str) -> Any:
    """A dependency on one part of the container, so a route's signature names what it uses."""

    async def part(request: Request) -> Any:
        return getattr(request.app.state.container, attribute)

    part.__name__ = f"get_{attribute}"
    return Depends(part)


IdentityDep = Annotated[IdentityApplication, _part("identity")]
SellersDep = Annotated[SellerApplication, _part("sellers")]
CatalogDep = Annotated[CatalogApplication, _part("catalog")]
CheckoutDep = Annotated[CheckoutApplication, _part("checkout")]
FulfilmentDep = Annotated[FulfilmentApplication, _part("fulfilment")]
RefundsDep = Annotated[RefundApplication, _part("refunds")]
DisputesDep = Annotated[DisputeApplication, _part("disputes")]
ReturnsDep = Annotated[ReturnApplication, _part("returns")]
PayoutsDep = Annotated[PayoutApplication, _part("payouts")]
IdentityQueriesDep = Annotated[IdentityQueries, _part("identity_queries")]
CatalogQueriesDep = Annotated[CatalogQueries, _part("catalog_queries")]
CategoriesDep = Annotated[CategoryApplication, _part("categories")]
CategoryQueriesDep = Annotated[CategoryQueries, _part("category_queries")]
OrderQueriesDep = Annotated[OrderQueries, _part("order_queries")]
AnalyticsQueriesDep = Annotated[AnalyticsQueries, _part("analytics_queries")]
LedgerQueriesDep = Annotated[LedgerQueries, _part("ledger_queries")]
ReconciliationQueriesDep = Annotated[ReconciliationQueries, _part("reconciliation_queries")]
PersonalDataDep = Annotated[PersonalData, _part("personal_data")]
ProfilesDep = Annotated[ProfileApplication, _part("profiles")]
ProfileQueriesDep = Annotated[ProfileQueries, _part("profile_queries")]
WishlistsDep = Annotated[WishlistApplication, _part("wishlists")]
OrganisationsDep = Annotated[OrganisationsApplication, _part("organisations")]
OrganisationQueriesDep = Annotated[OrganisationQueries, _part("organisation_queries")]
MasterCatalogQueriesDep = Annotated[MasterCatalogQueries, _part("master_catalog_queries")]
OrganisationDashboardDep = Annotated[OrganisationDashboard, _part("organisation_dashboard")]
WishlistQueriesDep = Annotated[WishlistQueries, _part("wishlist_queries")]
SearchDep = Annotated[SearchIndex, _part("search")]
StorefrontDep = Annotated[StorefrontApplication, _part("storefront")]
PromotionsDep = Annotated[PromotionsApplication, _part("promotions")]
PromotionQueriesDep = Annotated[PromotionQueries, _part("promotion_queries")]
StorefrontQueriesDep = Annotated[StorefrontQueries, _part("storefront_queries")]
AuditDep = Annotated[AuditTrail, _part("audit")]
VerifierDep = Annotated[Verifier, _part("verifier")]
LimitsDep = Annotated[RateLimits, _part("limits")]
TokensDep = Annotated[TokenService, _part("tokens")]
HasherDep = Annotated[Argon2Hasher, _part("hasher")]
ReadStoreDep = Annotated[ReadStore, _part("read_store")]
OperationsDep = Annotated[Operations, _part("operations")]
EventLogDep = Annotated[EventLog, _part("log")]
PayoutRunsDep = Annotated[PayoutRuns, _part("payout_runs")]
WebhookSecretDep = Annotated[str, _part("webhook_secret")]
MediaUrlsDep = Annotated[MediaUrls, _part("media_urls")]
BlobsDep = Annotated[BlobStore, _part("blobs")]
WebhooksDep = Annotated[WebhooksApplication, _part("webhooks")]
WebhookQueriesDep = Annotated[WebhookQueries, _part("webhook_queries")]


def client_address(request: Request) -> str:
    """The caller's address as the server saw it (behind a proxy, as uvicorn's
    --proxy-headers and --forwarded-allow-ips let the proxy tell it)."""
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticated(container: Container, token: str) -> Principal:
    """The caller a token names, if the token is sound and names an account that stands now:
    read from the log, so an erasure shuts its tokens at once in every process."""
    challenge = {"WWW-Authenticate": "Bearer"}
    try:
        principal = container.tokens.verify(token)
    except InvalidToken:
        raise Problem(
            401, "the access token is invalid or has expired", headers=challenge
        ) from None
    user = container.identity.active_user(principal.user_id, principal.home_tenant_id)
    if user is None:
        raise Problem(
            401, "the account of this token was erased or never existed", headers=challenge
        )
    revoked = user.sessions_revoked_at
    if revoked is not None and principal.issued_at_ms < revoked.timestamp() * 1000:
        # A password reset ended every sign-in of the account, its access tokens with them.
        raise Problem(401, "this token was issued before the password changed", headers=challenge)
    return principal


def current_caller(request: Request, container: ContainerDep) -> Principal:
    """The signed-in user a bearer token names or, without a token, the guest of a publishable
    key (see the module's docstring); 401 with neither."""
    token = bearer_token(request)
    if token is not None:
        return _signed_in(request, container, token)
    key = request.headers.get(PUBLISHABLE_KEY_HEADER)
    if key is not None:
        return _guest(request, container, key)
    raise Problem(
        401,
        "send an access token as 'Authorization: Bearer <token>'",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _signed_in(request: Request, container: Container, token: str) -> Principal:
    checked: tuple[str, Principal] | None = getattr(request.state, AUTHENTICATED, None)
    principal = (
        checked[1]  # the idempotency middleware has just checked this very token
        if checked is not None and checked[0] == token
        else authenticated(container, token)
    )
    setattr(request.state, AUTHENTICATED, (token, principal))
    container.limits.tenant_request(str(principal.tenant_id))
    bind_request(tenant_id=str(principal.tenant_id), user_id=str(principal.user_id))
    if not within_reach(principal.roles, request.method, request.url.path):
        raise Problem(403, "the auditor role reads only the audit trail and the ledger")
    if principal.organisation_id is not None and not as_marketplace_seller(request.url.path):
        raise Problem(
            403, "a marketplace token acts as the seller; use your own sign-in for your account"
        )
    return principal


def _guest(request: Request, container: Container, key: str) -> Principal:
    """A guest of the key's tenant, if the key opens (read from the log, so a deleted key is
    refused at once in every process). Counted per address before the key is looked at, and
    per key once it opens, then against its tenant's budget as every request is."""
    container.limits.guest_address(client_address(request))
    guest = container.storefront.guest(key)
    if guest is None:
        raise Problem(
            401,
            "the publishable key is malformed, unknown or deleted",
            headers={"WWW-Authenticate": "Bearer"},
        )
    container.limits.guest_key(str(guest.key_id))
    container.limits.tenant_request(str(guest.tenant_id))
    bind_request(tenant_id=str(guest.tenant_id), publishable_key_id=str(guest.key_id))
    return Principal(guest.key_id, guest.tenant_id, frozenset({GUEST}))


Caller = Annotated[Principal, Depends(current_caller)]


async def current_principal(caller: Caller) -> Principal:
    """A signed-in user: a guest is not one (401, as for no token)."""
    if is_guest(caller.roles):
        raise not_for_guests()
    return caller


CurrentUser = Annotated[Principal, Depends(current_principal)]


def not_for_guests() -> Problem:
    """What a guest hears where a publishable key does not reach: sign in."""
    return Problem(
        401,
        "a publishable key opens only the public catalog; send an access token as "
        "'Authorization: Bearer <token>'",
        headers={"WWW-Authenticate": "Bearer"},
    )


class Allowed:
    """Depends on this to require one of the roles the permission table names for an action.
    A guest passes only where the table names `guest`; elsewhere it is 401, not 403: it may
    sign in, which no role of a signed-in user can change."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.roles = roles_for(action)

    async def __call__(self, principal: Caller) -> Principal:
        if not principal.has_any(self.roles):
            if is_guest(principal.roles):
                raise not_for_guests()
            raise Problem(403, f"your roles do not allow {self.action}")
        return principal


async def tenant_scope(principal: Caller) -> TenantScope:
    if crosses_tenants(principal.roles):
        return TenantScope.every_tenant()
    return TenantScope.only(principal.tenant_id)


Scope = Annotated[TenantScope, Depends(tenant_scope)]


def confinement(principal: Principal) -> UUID | None:
    """The tenant a command may touch: the caller's own, or None for the cross-tenant roles."""
    return None if crosses_tenants(principal.roles) else principal.tenant_id


def acting_seller_id(principal: Principal) -> UUID:
    """The seller a seller user acts for: its id derives from the user's, or with a marketplace
    token from the organisation's (docs/api-seller-pro.md)."""
    return seller_id_for(principal.tenant_id, principal.organisation_id or principal.user_id)


def visible_seller(
    catalog_queries: CatalogQueries, scope: TenantScope, principal: Principal, seller_id: UUID
) -> dict[str, Any]:
    """The seller, for those who oversee the tenant or for the seller itself; anyone else gets
    404, as for an unknown id."""
    seller = catalog_queries.seller(scope, str(seller_id))
    if seller is None or not can_see_seller(
        principal.roles, str(acting_seller_id(principal)), seller
    ):
        raise Problem(404, f"seller {seller_id} not found")
    return seller


def confined_seller(principal: Principal) -> UUID | None:
    """The seller a command is confined to: the caller's own, or None for a marketplace admin,
    who acts for any seller of its tenant."""
    return None if acts_for_marketplace(principal.roles) else acting_seller_id(principal)


def confined_buyer(principal: Principal) -> UUID | None:
    """The buyer a command is confined to: the caller itself, or None for a marketplace admin."""
    return None if acts_for_marketplace(principal.roles) else principal.user_id


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size (1..500)")]
Cursor = Annotated[str | None, Query(max_length=200, description="from the previous page")]


async def command_context(request: Request) -> CommandContext:
    """Attributes the command to the caller (if signed in), its request and its correlation."""
    container: Container = request.app.state.container
    token = bearer_token(request)
    actor = None
    checked: tuple[str, Principal] | None = getattr(request.state, AUTHENTICATED, None)
    if checked is not None and checked[0] == token:
        actor = str(checked[1].user_id)  # the caller's token, checked already for this request
    elif token is not None:
        try:
            actor = str(container.tokens.verify(token).user_id)
        except InvalidToken:
            actor = None
    elif (key := PresentedKey.parse(request.headers.get(PUBLISHABLE_KEY_HEADER, ""))) is not None:
        actor = f"guest:{key.key_id}"  # the storefront whose visitor this is (checked by then)
    request_id = getattr(request.state, "request_id", None) or uuid4().hex
    correlation = request.headers.get("x-correlation-id", "")[:100] or request_id
    return CommandContext(actor_id=actor, correlation_id=correlation, causation_id=request_id)


def cart_holder(
    principal: Principal, cart_id: UUID, request: Request, container: Container
) -> UUID:
    """The buyer whose cart this is, as the caller may act for it: a signed-in buyer is its
    own; a guest holds a guest cart of its storefront's tenant by presenting its cart token
    (`X-Velora-Cart-Token`). Any other cart is 404, as an unknown one."""
    if not is_guest(principal.roles):
        return principal.user_id
    if not container.tokens.holds("cart", cart_id, request.headers.get(CART_TOKEN_HEADER)):
        raise Problem(404, f"cart {cart_id} not found")
    return container.checkout.guest_of(cart_id, principal.tenant_id)


def held_cart(
    cart_id: UUID,
    request: Request,
    container: ContainerDep,
    principal: Annotated[Principal, Depends(Allowed("carts:use"))],
) -> UUID:
    return cart_holder(principal, cart_id, request, container)


# The buyer of the cart a route's path names, for its buyer or the guest holding its token.
CartBuyer = Annotated[UUID, Depends(held_cart)]


Ctx = Annotated[CommandContext, Depends(command_context)]


def no_content(result: CommandResult) -> Response:
    """The 204 answer of a command (a DELETE, say), with its event-log position."""
    return Response(status_code=204, headers={POSITION_HEADER: str(result.position)})


def commanded(response: Response, result: CommandResult) -> dict[str, str]:
    """Marks a command response with its event-log position and returns its id body."""
    response.headers[POSITION_HEADER] = str(result.position)
    return {"id": str(result.id)}


class ReadAfter:
    """Holds a query until the projections it reads have reached the position the client sent
    in X-Velora-Min-Position (read-your-writes); after 5 s answers 503 with Retry-After."""

    def __init__(self, *projections: str) -> None:
        self.projections = projections

    async def __call__(
        self,
        principal: Caller,  # nobody waits for the read models before proving who they are
        container: ContainerDep,
        min_position: Annotated[
            int | None, Header(alias=MIN_POSITION_HEADER, ge=0, description="read-your-writes")
        ] = None,
    ) -> None:
        if not min_position:
            return
        deadline = time.monotonic() + READ_WAIT_S
        delay_s = 0.005
        checked_head = False
        while True:
            positions = await run_in_threadpool(container.read_store.positions)
            if all(positions.get(p, 0) >= min_position for p in self.projections):
                await self._not_quarantined(container, str(principal.tenant_id), min_position)
                return
            if not checked_head:
                # Every position a command answers is at or below the log's head, so one beyond
                # it was never issued: waiting cannot help, and the request is at fault.
                checked_head = True
                if min_position > await run_in_threadpool(container.log.head):
                    raise Problem(
                        422,
                        f"position {min_position} is beyond the event log",
                        errors=[
                            {
                                "loc": ["header", MIN_POSITION_HEADER],
                                "msg": "not a position this server has issued",
                            }
                        ],
                    )
            if time.monotonic() >= deadline:
                raise Problem(
                    503,
                    f"the read models have not reached position {min_position} yet",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 0.1)

    async def _not_quarantined(self, container: Container, tenant_id: str, position: int) -> None:
        """A projector that quarantines the caller's tenant has passed the position without
        applying the tenant's events: its rows would not show the write, so say so now rather
        than answer as if they did (an operator is alerted; see projections/quarantine.py)."""
        quarantined = await run_in_threadpool(
            container.read_store.quarantined_for, tenant_id, self.projections
        )
        if any(since <= position for since in quarantined.values()):
            raise Problem(
                503,
                "this marketplace's read models are quarantined after an error; an operator "
                "has been alerted",
                headers={"Retry-After": "30"},
            )
