"""The money model's own reference (tests/unit/test_money_flow_stateful.py): what each seller
order's buyer paid, line by line, and what went back of it to the buyer, out of `tax_payable`, to
the platform's promotions and of the platform's commission, kept in plain Python with no domain
code at all.

What a seller order costs is known exactly: the model prices each line itself (the listed price,
the discount, the tax at its rate, half to even), and a cancellation gives back all that is left.
Where the domain splits a figure in proportion, each part rounded half to even (a refund's tax
and the platform's part of it, a returned unit's share of its line, a dispute's share of each
seller order, the commission reversed), the reference does not round it again the same way: it
holds the domain's figure to what must be true of it (no further than half a unit from the
exact proportion, more than one unit only where a rounded total is split again; never more than
what is left; all of it with the last of what the buyer paid; a line's units adding up to the
line) and keeps it. Everything checked after a step (the ledger's balances, the settlement's
figures) is then held to sums of figures each of which was checked when it moved."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from uuid import UUID

Parts = dict[str, int]  # tax by rate, "<rate_bps>:<name>" -> minor units

HALF = Fraction(1, 2)


def near(value: int, exact: Fraction, within: Fraction = HALF) -> bool:
    return abs(value - exact) <= within


def plus(*parts: Parts) -> Parts:
    total: Parts = {}
    for each in parts:
        for key, amount in each.items():
            total[key] = total.get(key, 0) + amount
    return {key: amount for key, amount in total.items() if amount}


def minus(parts: Parts, taken: Parts) -> Parts:
    return plus(parts, {key: -amount for key, amount in taken.items()})


@dataclass
class Line:
    """One line as the reference priced it: what the buyer paid for it (tax included), its tax
    at its one rate, and what the platform funded of its goods; and its units returned, with
    what their returns gave back."""

    variant: UUID
    quantity: int
    tax_key: str
    paid: int
    tax: int
    funded: int
    returned: int = 0
    paid_back: int = 0
    tax_back: int = 0
    funded_back: int = 0

    def share(self, whole: int, units: int) -> Fraction:
        """The exact share of `whole` the line's first `units` units account for."""
        return Fraction(whole * units, self.quantity)


@dataclass(frozen=True)
class Given:
    """What one refund, return or lost dispute gave back: to the buyer (`amount`, of which
    `tax`, by rate, out of `tax_payable`), to the platform of what it funded, and of the
    commission it kept."""

    amount: int
    tax: Parts
    funded: int
    commission: int

    @property
    def tax_total(self) -> int:
        return sum(self.tax.values())


@dataclass
class SellerOrderRef:
    """A seller order as the reference keeps it."""

    id: UUID
    seller: UUID
    lines: list[Line]
    shipping_paid: int  # what the buyer paid to ship it
    shipping_funded: int  # what the platform paid of its shipping
    commission: int
    paid: bool = False
    released: bool = False
    released_net: int = 0
    cancelled: bool = False
    # A refund or lost dispute took the last of what the buyer paid while escrow held it.
    emptied: bool = False
    # An amount refund or a lost dispute took a share of everything left, so later returns
    # give back their lines' tax and funding only as far as that share left them.
    proportional: bool = False
    dispute: int = 0  # what an open dispute reserves of it
    paid_back: int = 0
    tax_back: Parts = field(default_factory=dict)
    funded_back: int = 0
    commission_back: int = 0

    # -- what it cost ---------------------------------------------------------------------------

    @property
    def gross(self) -> int:
        return sum(line.paid for line in self.lines) + self.shipping_paid

    @property
    def tax(self) -> Parts:
        return plus(*({line.tax_key: line.tax} for line in self.lines))

    @property
    def funded(self) -> int:
        return sum(line.funded for line in self.lines) + self.shipping_funded

    # -- what is left ---------------------------------------------------------------------------

    @property
    def paid_left(self) -> int:
        return 0 if self.cancelled else self.gross - self.paid_back

    @property
    def tax_left(self) -> Parts:
        return {} if self.cancelled else minus(self.tax, self.tax_back)

    @property
    def goods_left(self) -> int:
        """What the buyer paid for goods and shipping (not tax) and has not had back."""
        return self.paid_left - sum(self.tax_left.values())

    @property
    def funded_left(self) -> int:
        return 0 if self.cancelled else self.funded - self.funded_back

    @property
    def commission_left(self) -> int:
        return self.commission - self.commission_back

    @property
    def net_left(self) -> int:
        """The seller's: its goods and shipping with the platform's part, less commission."""
        return self.goods_left + self.funded_left - self.commission_left

    @property
    def in_escrow(self) -> bool:
        return self.paid and not (self.released or self.cancelled or self.emptied)

    @property
    def under_dispute(self) -> bool:
        return self.dispute > 0

    @property
    def all_returned(self) -> bool:
        return all(line.returned == line.quantity for line in self.lines)

    # -- what goes back -------------------------------------------------------------------------

    def take(self, given: Given) -> None:
        """Whatever gives money back: never more than is left, of the buyer's goods, of any
        rate's tax, of the platform's funding or of commission; all of each with the last of
        what the buyer paid."""
        assert self.paid and not self.cancelled and not self.under_dispute
        left, tax_left = self.paid_left, self.tax_left
        assert 0 <= given.amount <= left, (given, left)
        assert all(0 < v <= tax_left.get(k, 0) for k, v in given.tax.items()), (given, tax_left)
        assert given.tax_total <= given.amount, given
        assert given.amount - given.tax_total <= self.goods_left, (given, self.goods_left)
        assert 0 <= given.funded <= self.funded_left, (given, self.funded_left)
        assert 0 <= given.commission <= self.commission_left, (given, self.commission_left)
        if given.amount and given.amount == left:
            assert (given.tax, given.funded, given.commission) == (
                tax_left,
                self.funded_left,
                self.commission_left,
            ), ("not all of it with the last", given, tax_left, self.funded_left)
        self.paid_back += given.amount
        self.tax_back = plus(self.tax_back, given.tax)
        self.funded_back += given.funded
        self.commission_back += given.commission
        if given.amount and given.amount == left and self.in_escrow:
            self.emptied = True

    def _commission_in_proportion(self, given: Given) -> None:
        """Commission goes back with the seller's goods and the platform's part of them, in
        proportion to all that escrow took of them."""
        goods = given.amount - given.tax_total + given.funded
        whole = self.goods_left + self.funded_left
        if goods < whole:
            exact = Fraction(self.commission_left * goods, whole)
            assert near(given.commission, exact), ("commission", given, exact)

    def refunded_in_proportion(self, given: Given) -> None:
        """An amount refund, or a lost dispute's share: of every rate's tax left, and of the
        platform's funding of the goods it gives back, each in proportion (a rounded total split
        over the rates again, so a rate's part may stray a unit and a half)."""
        left, tax_left = self.paid_left, self.tax_left
        if given.amount < left:
            tax_exact = Fraction(sum(tax_left.values()) * given.amount, left)
            assert near(given.tax_total, tax_exact), ("tax", given, tax_exact)
            for key, amount in tax_left.items():
                exact = Fraction(amount * given.amount, left)
                assert near(given.tax.get(key, 0), exact, Fraction(3, 2)), (key, given, exact)
            goods = given.amount - given.tax_total
            if goods < self.goods_left:
                exact = Fraction(self.funded_left * goods, self.goods_left)
                assert near(given.funded, exact), ("platform", given, exact)
        self._commission_in_proportion(given)
        self.take(given)
        self.proportional = True

    def returned(self, line: Line, units: int, given: Given) -> None:
        """Units of a line came back: the buyer gets what they paid of the line (up to what is
        left), each unit its share, so a line's units add up to the line; its tax and the
        platform's funding go back in the same shares, unless an earlier share of everything
        took part of them already."""
        before, after = line.returned, line.returned + units
        assert after <= line.quantity
        whole = given.amount == self.paid_left
        paid_exact = line.share(line.paid, after)
        if whole:  # no more than the units' share
            assert line.paid_back + given.amount <= paid_exact + HALF, (given, paid_exact)
        else:
            assert near(line.paid_back + given.amount, paid_exact), (given, paid_exact)
        if not self.proportional:
            assert set(given.tax) <= {line.tax_key}, (given, line.tax_key)
            tax_exact = line.share(line.tax, after)
            assert near(line.tax_back + given.tax_total, tax_exact), (given, tax_exact)
            if not whole:
                funded_exact = line.share(line.funded, after)
                assert near(line.funded_back + given.funded, funded_exact), (
                    "platform's funding of the units returned",
                    given,
                    line.funded_back,
                    funded_exact,
                )
        elif not whole:
            funded_exact = line.share(line.funded, after) - line.share(line.funded, before)
            assert given.funded <= funded_exact + 1, (given, funded_exact)
        self._commission_in_proportion(given)
        self.take(given)
        line.returned = after
        line.paid_back += given.amount
        line.tax_back += given.tax_total
        line.funded_back += given.funded

    def cancel(self) -> int:
        """Cancelled after payment: everything left goes back (returned, what the buyer gets)."""
        assert self.in_escrow and not self.under_dispute
        left = self.paid_left
        self.cancelled = True
        return left

    def release(self) -> None:
        assert self.in_escrow and not self.under_dispute
        self.released, self.released_net = True, self.net_left

    def check_returned(self) -> None:
        """Once every unit of every line is back, so is all their tax, rate by rate, and what
        the platform funded of them."""
        if self.paid and not self.cancelled and self.all_returned:
            assert self.tax_left == {}, ("all returned, tax left", self.tax_left)
            lines_funded = sum(line.funded for line in self.lines)
            assert self.funded_back >= lines_funded, ("all returned", self.funded_back)


def check_split(amount: int, available: list[int], shares: list[int]) -> None:
    """A dispute's amount over the seller orders, up to what they have together, in proportion
    to what each has (no more than one unit from it), never more than one has."""
    whole = sum(available)
    total = min(amount, whole)
    assert sum(shares) == total, (amount, available, shares)
    for has, share in zip(available, shares, strict=True):
        assert 0 <= share <= has, (available, shares)
        assert near(share, Fraction(total * has, whole) if whole else Fraction(0), Fraction(1))
