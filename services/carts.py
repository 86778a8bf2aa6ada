"""Carts: opened by buyers and guests, their lines (variants) and promotion codes, priced as
checkout prices them (services/checkout.py, whose application these commands are part of)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from domain import discounts as discount_rules
from domain.carts import Cart, CartNotFound
from domain.catalog import VariantRef
from domain.commission import CommissionRules
from domain.discounts import Candidate, Discount, DiscountLine
from domain.errors import DomainError
from domain.identity import Tenant, TenantNotFound
from domain.listing import ProductNotFound
from domain.order_lines import LineTax, LineUnavailable, PricedLine
from domain.promotions import (
    Promotion,
    PromotionBook,
    PromotionNotFound,
    PromotionUnavailable,
    code_key,
)
from domain.tax import TaxTable
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication


@dataclass(frozen=True)
class CartPromotions:
    """A cart's codes after a change of them, and what every promotion takes off it now."""

    result: CommandResult
    codes: tuple[str, ...]
    discounts: list[Discount]


@dataclass(frozen=True)
class Pricing:
    """What prices a cart's lines, read off the tenant once per cart: its commission rules,
    its tax table, and where the goods are taxed (country, region; blank before checkout)."""

    commission: CommissionRules
    tax: TaxTable
    taxed_at: tuple[str, str] = ("", "")

    @classmethod
    def of(cls, tenant: Tenant, taxed_at: tuple[str, str] = ("", "")) -> Pricing:
        return cls(tenant.commission_rules(), tenant.tax, taxed_at)


class CartCommands(ServiceApplication):
    """A buyer's or a guest's cart: its lines and its promotion codes; how checkout prices its
    lines and finds the promotions it tries."""

    @command
    def open_cart(self, ctx: CommandContext, tenant_id: UUID, buyer_id: UUID) -> CommandResult:
        cart = Cart(tenant_id=tenant_id, buyer_id=buyer_id)
        return CommandResult(cart.id, self.record(ctx, cart))

    @command
    def open_guest_cart(self, ctx: CommandContext, tenant_id: UUID) -> CommandResult:
        """A cart of a storefront's visitor without an account: its buyer is a guest no account
        is, and its cart token (api/security.py) opens it."""
        cart = Cart(tenant_id=tenant_id, buyer_id=uuid4(), guest=True)
        return CommandResult(cart.id, self.record(ctx, cart))

    def guest_of(self, cart_id: UUID, tenant_id: UUID) -> UUID:
        """The guest buyer of a guest's cart of this tenant (the cart token was checked by
        then): 404, as an unknown cart, for any other cart."""
        cart = self.read_or_none(cart_id)
        if not isinstance(cart, Cart) or not cart.guest or cart.tenant_id != tenant_id:
            raise CartNotFound(f"cart {cart_id} not found")
        return cart.buyer_id

    @command
    def set_quantity(
        self, ctx: CommandContext, cart_id: UUID, buyer_id: UUID, variant_id: UUID, quantity: int
    ) -> CommandResult:
        """Sets the quantity of a line: a variant, or a product without variants by its id
        (which names its one variant). 0 removes the line."""
        cart = self._own_cart(cart_id, buyer_id)
        product_id = cart.products.get(variant_id) or self._product_of(variant_id)
        if quantity:
            buyable = self.buyable(product_id, cart.tenant_id)
            if buyable is None:
                # Hidden from buyers (pending, rejected, its seller suspended): as if unknown.
                raise ProductNotFound(f"product {product_id} not found")
            buyable[0].buyable_variant(variant_id)
        cart.set_quantity(product_id, quantity, variant_id)
        return CommandResult(cart.id, self.record(ctx, cart))

    @command
    def apply_code(
        self, ctx: CommandContext, cart_id: UUID, buyer_id: UUID, code: str
    ) -> CartPromotions:
        """Applies a promotion's code to the buyer's cart: 404 for a code no running promotion
        has, 409 when it cannot be used now or nothing in the cart fits it. Answers what every
        promotion takes off the cart now (shipping's are taken at checkout)."""
        cart = self._own_cart(cart_id, buyer_id)
        book = self.read_or_none(PromotionBook.create_id(cart.tenant_id))
        if not isinstance(book, PromotionBook):
            raise PromotionNotFound(f"no promotion has the code {code_key(code)!r}")
        promotion = self._promotion(book.find(code), cart.tenant_id)
        promotion.check_usable(str(buyer_id), datetime.now(UTC))
        lines = self._cart_lines(cart)
        if not discount_rules.fits_cart(promotion.terms, lines):
            raise PromotionUnavailable(f"nothing in the cart fits the code {promotion.terms.code}")
        cart.apply_code(promotion.terms.code)
        result = CommandResult(cart.id, self.record(ctx, cart))
        return CartPromotions(result, cart.codes, self._discounts(cart, lines))

    @command
    def remove_code(
        self, ctx: CommandContext, cart_id: UUID, buyer_id: UUID, code: str
    ) -> CartPromotions:
        """Removes a code from the buyer's cart (404 if the cart does not have it)."""
        cart = self._own_cart(cart_id, buyer_id)
        if not cart.remove_code(code_key(code)):
            raise PromotionNotFound(f"the cart has no code {code_key(code)!r}")
        result = CommandResult(cart.id, self.record(ctx, cart))
        return CartPromotions(result, cart.codes, self._discounts(cart, self._cart_lines(cart)))

    def _cart_lines(self, cart: Cart) -> list[DiscountLine]:
        """The cart's lines that can be bought now, at today's prices, as promotions see them."""
        tenant = self.load(Tenant, cart.tenant_id, cart.tenant_id, TenantNotFound, reading=True)
        pricing = Pricing.of(tenant)
        found = []
        for variant_id, quantity in cart.lines.items():
            try:
                product_id = cart.products[variant_id]
                line = self._priced(tenant.id, pricing, product_id, variant_id, quantity)
            except LineUnavailable:
                continue
            found.append(line.discountable)
        return found

    def _discounts(self, cart: Cart, lines: list[DiscountLine]) -> list[Discount]:
        now = datetime.now(UTC)
        candidates = [
            Candidate.of(p, by_code, str(cart.buyer_id), now)
            for p, by_code in self._promotions(cart, strict=False)
        ]
        return discount_rules.apply_all(candidates, lines, {}, strict=False).discounts

    def _product_of(self, variant_id: UUID) -> UUID:
        """The product a variant belongs to; a product without variants is its own."""
        ref = self.read_or_none(VariantRef.create_id(variant_id))
        return ref.product_id if isinstance(ref, VariantRef) else variant_id

    # -- what checkout prices and tries ---------------------------------------------------------

    def _promotions(self, cart: Cart, *, strict: bool = True) -> list[tuple[Promotion, bool]]:
        """The promotions a cart's checkout tries, in order: the tenant's automatic ones, then
        the cart's codes (named by a code: True). A code whose promotion has ended since the
        cart applied it is refused (409; passed over unless `strict`)."""
        book = self.read_or_none(PromotionBook.create_id(cart.tenant_id))
        if not isinstance(book, PromotionBook):
            if cart.codes and strict:
                raise PromotionUnavailable(f"the code {cart.codes[0]!r} has ended")
            return []
        automatic: list[tuple[Promotion, bool]] = [
            (self._promotion(UUID(p), cart.tenant_id), False) for p in book.automatic
        ]
        coded: list[tuple[Promotion, bool]] = []
        for code in cart.codes:
            try:
                coded.append((self._promotion(book.find(code), cart.tenant_id), True))
            except PromotionNotFound:
                if strict:
                    raise PromotionUnavailable(f"the code {code!r} has ended") from None
        return [*automatic, *coded]

    def _promotion(self, promotion_id: UUID, tenant_id: UUID) -> Promotion:
        return self.load(Promotion, promotion_id, tenant_id, PromotionNotFound, reading=True)

    def _priced(
        self, tenant_id: UUID, pricing: Pricing, product_id: UUID, variant_id: UUID, quantity: int
    ) -> PricedLine:
        buyable = self.buyable(product_id, tenant_id)
        if buyable is None:
            raise LineUnavailable(f"line {variant_id}: this product cannot be bought now")
        product, seller = buyable
        try:
            variant = product.buyable_variant(variant_id)
        except DomainError:
            raise LineUnavailable(f"line {variant_id}: this variant cannot be bought now") from None
        rate = pricing.commission.rate(
            product_bps=product.commission_bps,
            category=product.category,
            seller_bps=seller.commission_bps,
            discount_bps=seller.commission_discount_bps,
        )
        table = pricing.tax
        tax_rate = table.rate_for(*pricing.taxed_at, product.category)
        return PricedLine(
            product.id,
            seller.id,
            product.title,
            quantity,
            variant.price_minor,
            variant.currency,
            rate,
            variant_id=variant.id,
            sku=variant.sku,
            options=variant.options,
            tax=LineTax.at(tax_rate, table.prices_include_tax),
            category=product.category,
            stock_id=product.stock_of(variant.id) if product.master_id else None,
        )

    def _own_cart(self, cart_id: UUID, buyer_id: UUID) -> Cart:
        cart = self.get_or_none(cart_id)
        if not isinstance(cart, Cart) or cart.buyer_id != buyer_id:
            raise CartNotFound(f"cart {cart_id} not found")
        return cart
