"""The FastAPI application, built around a Container from the composition root."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import Scope

from api import logs, openapi, problems
from api.bodylimit import BodyLimit
from api.bootstrap import Container, build
from api.controls import RefuseControls
from api.deps import AUTHENTICATED, CART_TOKEN_HEADER, authenticated
from api.headers import SafeHeaders
from api.idempotency import IdempotencyMiddleware
from api.metrics import Metrics, lag_gauges, projection_gauges
from api.observability import Observed
from api.problems import Problem
from api.routes import (
    analytics,
    audit,
    auth,
    carts,
    categories,
    health,
    images,
    ledger,
    master_images,
    master_products,
    ops,
    orders,
    organisation_dashboard,
    organisations,
    payouts,
    plans,
    products,
    profiles,
    promotions,
    publishable_keys,
    reconciliation,
    refunds,
    reports,
    returns,
    reviews,
    search,
    sellers,
    shipping,
    tenants,
    users,
    variants,
    webhook_endpoints,
    webhooks,
    wishlists,
)
from api.settings import Settings

DESCRIPTION = """Velora: an event-sourced backend for multi-tenant, multi-vendor marketplaces.

Commands answer with `X-Velora-Position`; send it back as `X-Velora-Min-Position` on a query to
read your own writes. Every POST accepts `Idempotency-Key`. Errors are `application/problem+json`.
"""


# Where FastAPIOffline serves Swagger UI's script and styles: the one path answers may be cached.
DOCS_ASSETS = "/static-offline-docs"


def api_process() -> FastAPI:
    """The app of one of `velora serve --workers N`'s API processes: its own container, built
    from the same settings, with no projectors or scheduler (the supervisor runs those)."""
    container = build(Settings())
    logs.configure(container.settings.log_level, json=container.settings.json_logs)
    return create_app(container, owns_container=True)


def create_app(
    container: Container, *, run_projections: bool = False, owns_container: bool = False
) -> FastAPI:
    """Builds the app. With run_projections, the projectors, the scheduler and the webhook
    dispatcher run in this process (velora serve); with owns_container, the app closes the
    container when it shuts down."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if run_projections:
            container.start_background()
        try:
            yield
        finally:
            if run_projections:
                container.stop_background()
            if owns_container:
                container.close()

    # Swagger UI's and ReDoc's scripts and styles are served from the installed fastapi-offline
    # package, not a CDN: /docs and /redoc work on a machine with no internet.
    app = FastAPIOffline(
        title="Velora",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        redoc_url="/redoc",  # ReDoc, from the same package: offline too
        static_url=DOCS_ASSETS,
        generate_unique_id_function=openapi.operation_id,
    )
    app.state.container = container
    problems.install(app)
    openapi.install(app)
    for router in (
        auth.router,
        tenants.router,
        publishable_keys.router,
        users.router,
        profiles.router,
        wishlists.router,
        sellers.router,
        plans.router,
        categories.router,
        products.router,
        variants.router,
        shipping.router,
        images.router,
        images.media,
        reviews.router,
        reviews.moderation,
        search.router,
        carts.router,
        orders.router,
        ledger.router,
        reconciliation.router,
        refunds.router,
        promotions.router,
        organisations.router,
        master_products.router,
        master_images.router,
        organisation_dashboard.router,
        returns.router,
        payouts.router,
        reports.router,
        analytics.router,
        audit.router,
        ops.router,
        webhook_endpoints.router,
        webhooks.router,
        health.router,
    ):
        app.include_router(router)
    metrics = Metrics()
    metrics.watch(
        "lags",
        lag_gauges(container.log.head, container.projector_positions, container.relay_positions),
    )
    metrics.watch("projectors", projection_gauges(container.operations.health))
    app.state.metrics = metrics
    if run_projections:
        delivered = metrics.webhook_deliveries
        container.webhook_dispatcher.on_outcome = lambda status: delivered.labels(status).inc()
    # At /metrics itself (a mount would answer it with a redirect to /metrics/).
    app.add_route("/metrics", metrics.page, include_in_schema=False)

    def caller_scope(scope: Scope) -> str | None:
        """Keys are kept per user; for a guest, per the cart its token opens (its checkout's
        answer holds the order token: only the cart's holder may have it replayed); else per
        client address for a caller without a token."""
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            cart_token = headers.get(CART_TOKEN_HEADER.lower().encode())
            if cart_token:
                return f"cart-holder:{hashlib.sha256(cart_token).hexdigest()}"
            client = scope.get("client") or ("unknown", 0)
            return f"anonymous:{client[0]}"
        try:
            principal = authenticated(container, token.strip())
        except Problem:
            return None  # the route refuses it as it would without a key
        # The route's own check of this same token then reads it from here (request.state).
        scope.setdefault("state", {})[AUTHENTICATED] = (token.strip(), principal)
        return f"user:{principal.user_id}"

    app.add_middleware(
        IdempotencyMiddleware, store_of=lambda: container.idempotency, scope_of=caller_scope
    )
    app.add_middleware(RefuseControls, exempt=("/v1/webhooks/stripe",))
    app.add_middleware(
        BodyLimit,
        max_bytes=container.settings.max_body_bytes,
        larger=[(images.UPLOAD_PATH, images.UPLOAD_MAX_BYTES)],
    )
    app.add_middleware(Observed, metrics=metrics)
    # Outermost: every answer, errors from the middleware above included, leaves through it.
    app.add_middleware(SafeHeaders, cached=(DOCS_ASSETS,))
    return app
