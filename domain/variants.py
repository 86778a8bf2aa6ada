"""Variants: the versions of one product a buyer chooses between (a T-shirt in S, M and L).

A product names its *options* (`Size: S, M, L`; `Colour: Red, Blue`) and its *variants*: each
one combination of one value per option, with its own id, sku, price (the product's unless it
has one) and stock. A product that names no variants is its own single variant, whose id is the
product's id: every product listed before variants existed stays buyable as it was, its stock,
cart lines and order lines keyed by that id, and no stored event changes meaning.

Once a product has variants of its own, its id no longer names one. A variant is retired, never
deleted: orders keep naming it, and it cannot be bought again.

The rules here are plain functions over plain values; `ProductVariants`, the part of `Product`
(domain/catalog.py) that holds its options and variants, applies them, and the product records
what they allow as its events (`OptionsSet`, `VariantAdded`, `VariantEdited`, `VariantRetired`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.listing import parse_price
from domain.money import Money
from domain.names import name_key, nfc

MAX_OPTIONS = 5
MAX_VALUES = 50
MAX_VARIANTS = 100
MAX_NAME = 50
MAX_VALUE = 100
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")


class VariantError(DomainError):
    """Base of the variants' errors (the catalog context)."""


class InvalidVariant(VariantError, Invalid):
    title = "Invalid variant"


class VariantNotFound(VariantError, NotFound):
    title = "Variant not found"


class VariantRetired(VariantError, Conflict):
    title = "Variant retired"


class ChooseVariant(VariantError, Invalid):
    title = "Choose a variant"


def parse_options(raw: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Options as kept: each `{name, values}`, names and values in NFC, trimmed, unique within
    their list by `name_key` (so "Size" and "size " are one option)."""
    if len(raw) > MAX_OPTIONS:
        raise InvalidVariant(f"a product has at most {MAX_OPTIONS} options")
    options: list[dict[str, Any]] = []
    for option in raw:
        name = _word("an option's name", option.get("name"), MAX_NAME)
        values = option.get("values")
        if not isinstance(values, list | tuple) or not 1 <= len(values) <= MAX_VALUES:
            raise InvalidVariant(f"option {name!r} needs 1 to {MAX_VALUES} values")
        kept = [_word(f"a value of {name!r}", value, MAX_VALUE) for value in values]
        _unique(kept, f"the values of option {name!r}")
        options.append({"name": name, "values": kept})
    _unique([o["name"] for o in options], "option names")
    return options


def extended(current: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Refuses new options that would leave existing variants without a value for each: once a
    product has variants, its options may only gain values."""
    old = {name_key(o["name"]): o for o in current}
    if {name_key(o["name"]) for o in new} != set(old):
        raise InvalidVariant("a product with variants keeps its option names; add values only")
    for option in new:
        kept = {name_key(v) for v in option["values"]}
        if not {name_key(v) for v in old[name_key(option["name"])]["values"]} <= kept:
            raise InvalidVariant(f"option {option['name']!r} may only gain values")


def combination(options: list[dict[str, Any]], chosen: Mapping[str, Any]) -> dict[str, str]:
    """One value for each option, as the product spells them: 422 for a missing or unknown
    option, or a value not among the option's values."""
    if not options:
        raise InvalidVariant("the product has no options: give it options before variants")
    if not isinstance(chosen, Mapping):
        raise InvalidVariant("a variant's options map each option's name to a value")
    by_key = {name_key(str(k)): v for k, v in chosen.items()}
    if len(by_key) != len(chosen):
        raise InvalidVariant("a variant names each option once")
    picked: dict[str, str] = {}
    for option in options:
        value = by_key.pop(name_key(option["name"]), None)
        if not isinstance(value, str):
            raise InvalidVariant(f"a variant needs a value for option {option['name']!r}")
        spelled = {name_key(v): v for v in option["values"]}.get(name_key(value))
        if spelled is None:
            raise InvalidVariant(f"{value!r} is not a value of option {option['name']!r}")
        picked[option["name"]] = spelled
    if by_key:
        raise InvalidVariant(f"the product has no option named {sorted(by_key)[0]!r}")
    return picked


def combination_key(options: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name_key(k), name_key(v)) for k, v in options.items()))


def parse_sku(sku: Any) -> str:
    kept: str = sku.strip() if isinstance(sku, str) else ""
    if not SKU.match(kept):
        raise InvalidVariant("sku must be 1 to 64 letters, digits or . _ - /")
    return kept


@dataclass(frozen=True)
class Variant:
    """One variant as a buyer sees it: its price is the product's unless it has its own."""

    id: UUID
    product_id: UUID
    sku: str
    options: dict[str, str]
    price_minor: int
    currency: str
    retired: bool = False

    @property
    def label(self) -> str:
        """The variant's option values, as a cart or an order line shows them: "M / Red"."""
        return " / ".join(self.options.values())


class Keep:
    """Leaves a value as it is (for a field whose None means something)."""


KEEP = Keep()


@dataclass(frozen=True)
class NewVariant:
    id: UUID
    sku: str
    options: Mapping[str, Any]
    price: Money | None = None


class ProductVariants:
    """A product's options and variants, checked by the rules above: a mixin of `Product`,
    which records the events. A state kept before variants existed (an audit snapshot) has
    neither; the product's events read them with `_kept`."""

    id: UUID
    sku: str
    price_minor: int
    currency: str
    # Replaced by their events, never changed in place.
    options: Sequence[dict[str, Any]]
    variants: Mapping[str, dict[str, Any]]

    if TYPE_CHECKING:  # Product's, beside the events they record

        def _options_set(self, options: Sequence[dict[str, Any]]) -> None: ...

        def _variant_added(
            self, variant_id: UUID, sku: str, options: dict[str, str], price_minor: int | None
        ) -> None: ...

        def _variant_edited(self, variant_id: UUID, sku: str, price_minor: int | None) -> None: ...

        def _variant_retired(self, variant_id: UUID) -> None: ...

    @property
    def has_variants(self) -> bool:
        """Whether the product sells variants of its own; if not, it is its own one variant."""
        return bool(self.variants)

    def set_options(self, options: Sequence[Mapping[str, Any]]) -> None:
        """Names the options; once the product has variants, options may only gain values."""
        parsed = parse_options(options)
        if self.variants:
            extended(list(self.options), parsed)
        if parsed != list(self.options):
            self._options_set(options=parsed)

    def add_variant(
        self, variant_id: UUID, *, sku: str, options: Mapping[str, Any], price: Money | None
    ) -> Variant:
        """Sells one more combination of option values (422 for a combination a variant on
        sale has already, or a value the options do not name)."""
        if len(self.variants) >= MAX_VARIANTS:
            raise InvalidVariant(f"a product has at most {MAX_VARIANTS} variants")
        chosen = combination(list(self.options), options)
        key = combination_key(chosen)
        if any(combination_key(v.options) == key for v in self.sellable_variants):
            raise InvalidVariant(f"a variant with {chosen} is on sale already")
        if str(variant_id) in self.variants or variant_id == self.id:
            raise InvalidVariant(f"variant {variant_id} exists already")
        self._variant_added(
            variant_id=variant_id,
            sku=parse_sku(sku),
            options=chosen,
            price_minor=self._variant_price(price),
        )
        return self.variant(variant_id)

    def edit_variant(
        self, variant_id: UUID, *, sku: str | None = None, price: Money | Keep | None = KEEP
    ) -> Variant:
        """A new sku, or a price of its own (None: the product's from now on)."""
        current = self._own_variant(variant_id)
        new_sku = current["sku"] if sku is None else parse_sku(sku)
        new_price = (
            current["price_minor"] if isinstance(price, Keep) else self._variant_price(price)
        )
        if (new_sku, new_price) != (current["sku"], current["price_minor"]):
            self._variant_edited(variant_id=variant_id, sku=new_sku, price_minor=new_price)
        return self.variant(variant_id)

    def retire_variant(self, variant_id: UUID) -> None:
        if self._own_variant(variant_id)["retired"]:
            raise VariantRetired(f"variant {variant_id} is retired already")
        self._variant_retired(variant_id=variant_id)

    def variant(self, variant_id: UUID) -> Variant:
        """The variant this id names: one of the product's own, or the product itself while it
        has none. A retired variant is still named (orders keep it)."""
        if not self.variants:
            if variant_id != self.id:
                raise VariantNotFound(f"variant {variant_id} not found")
            return Variant(self.id, self.id, self.sku, {}, self.price_minor, self.currency)
        if variant_id == self.id:
            raise ChooseVariant(f"product {self.id} has variants: name one of them")
        record = self._own_variant(variant_id)
        price = record["price_minor"]
        return Variant(
            variant_id,
            self.id,
            record["sku"],
            dict(record["options"]),
            self.price_minor if price is None else price,
            self.currency,
            record["retired"],
        )

    def buyable_variant(self, variant_id: UUID) -> Variant:
        variant = self.variant(variant_id)
        if variant.retired:
            raise VariantRetired(f"variant {variant_id} is no longer sold")
        return variant

    @property
    def sellable_variants(self) -> Sequence[Variant]:
        """Every variant on sale: the product itself while it has none of its own."""
        if not self.variants:
            return [self.variant(self.id)]
        return [v for v in (self.variant(UUID(i)) for i in self.variants) if not v.retired]

    def _own_variant(self, variant_id: UUID) -> dict[str, Any]:
        record = self.variants.get(str(variant_id))
        if record is None:
            raise VariantNotFound(f"variant {variant_id} not found")
        return record

    def _variant_price(self, price: Money | None) -> int | None:
        if price is None:
            return None
        price = parse_price(price)
        if price.currency != self.currency:
            raise InvalidVariant(f"a variant is priced in the product's {self.currency}")
        return price.amount_minor


def _word(what: str, value: Any, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidVariant(f"{what} must be text")
    kept = nfc(value.strip())
    if not 1 <= len(kept) <= max_length:
        raise InvalidVariant(f"{what} must have 1 to {max_length} characters")
    return kept


def _unique(words: list[str], what: str) -> None:
    keys = [name_key(w) for w in words]
    if len(set(keys)) != len(keys):
        raise InvalidVariant(f"{what} must differ from each other")
