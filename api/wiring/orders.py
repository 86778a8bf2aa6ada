"""Orders: carts, checkout with its payment provider, fulfilment and reviews, and the orders
read side with its dashboards."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.payments.local import LocalPaymentProvider
from adapters.payments.stripe import StripeProvider
from api.security import TokenService
from api.settings import Settings
from api.wiring.platform import Wiring
from domain.payments import PaymentProvider
from projections.analytics.projector import AnalyticsProjector
from projections.analytics.queries import AnalyticsQueries
from projections.orders.carts import CartsProjector
from projections.orders.projector import OrdersProjector
from projections.orders.queries import OrderQueries
from projections.promotions.projector import PromotionsProjector
from projections.promotions.queries import PromotionQueries
from projections.tax.projector import TaxProjector
from services.checkout import CheckoutApplication
from services.fulfilment import FulfilmentApplication
from services.promotions import PromotionsApplication


@dataclass
class OrderParts:
    checkout: CheckoutApplication
    fulfilment: FulfilmentApplication
    order_queries: OrderQueries
    analytics_queries: AnalyticsQueries
    promotions: PromotionsApplication
    promotion_queries: PromotionQueries


def payment_provider(settings: Settings, tokens: TokenService) -> PaymentProvider:
    """Stripe when a key is configured, else the local provider of the embedded default, which
    keeps its record of what it did beside the deployment's data."""
    if settings.stripe_api_key:
        return StripeProvider(
            settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base
        )
    return LocalPaymentProvider(
        tokens.secret_for("local-payments"), settings.data_dir / "local-provider.sqlite3"
    )


def wire_orders(wiring: Wiring) -> OrderParts:
    log, store = wiring.log, wiring.read_store
    wiring.project(
        OrdersProjector(),
        AnalyticsProjector(),
        CartsProjector(),
        TaxProjector(),
        PromotionsProjector(),
    )
    return OrderParts(
        checkout=CheckoutApplication(
            log, payment_provider(wiring.settings, wiring.tokens), on_recorded=wiring.recorded
        ),
        fulfilment=FulfilmentApplication(log, on_recorded=wiring.recorded),
        order_queries=OrderQueries(store),
        analytics_queries=AnalyticsQueries(store),
        promotions=PromotionsApplication(log, on_recorded=wiring.recorded),
        promotion_queries=PromotionQueries(store),
    )
