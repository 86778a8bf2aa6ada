"""Stored events name their class by topic (`module:Class.Event`), and a topic that no longer
resolves makes the events under it unreadable, and invisible to a projector, which reads the log
by topic. The catalog's and identity's aggregates were split into parts (their listing, variants,
roles, credentials and settings moved to modules of their own, issue 29), but the aggregates and
their events stayed where they were: these events are recorded and read back under exactly the
topics they were always stored under."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing import utils as topics
from eventsourcing.utils import clear_topic_cache

from domain.catalog import Product, SkuClaim, VariantRef
from domain.identity import EmailClaim, Tenant, User
from domain.money import Money
from domain.sellers import Seller
from domain.tenant_settings import PayoutSchedule
from eventstore.application import VeloraApplication
from eventstore.context import CommandContext
from eventstore.log import EventLog, open_event_log


@pytest.fixture(autouse=True)
def topic_cache_restored() -> Iterator[None]:
    """The cache `reloaded` clears also holds the old topics moved classes registered when
    their modules were imported (domain/base.formerly): it is put back for the tests after."""
    kept = dict(topics._topic_cache)
    yield
    topics._topic_cache.update(kept)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    log = open_event_log(None, tmp_path)
    log.migrate()
    yield log
    log.close()


def stored_topics(log: EventLog, *aggregates: Any) -> list[str]:
    """Records the aggregates and answers the topics their events were stored under."""
    VeloraApplication(log).record(CommandContext.system("test"), *aggregates)
    ids = {a.id for a in aggregates}
    return [n.topic for n in log.read_raw(0, 1000) if n.originator_id in ids]


def reloaded(log: EventLog, aggregate: Any) -> Any:
    """The aggregate read back by a fresh application, its topics resolved from their strings
    alone (as a new process resolves them)."""
    clear_topic_cache()
    return VeloraApplication(log).repository.get(aggregate.id)


def a_product_in_every_part() -> Product:
    """A product that went through its listing, moderation, variants, images and features."""
    seller = Seller.register(uuid4(), uuid4(), "Shop", "DE")
    seller.approve()
    product = Product.list(
        seller,
        sku="TP-1",
        title="Teapot",
        description="",
        category="kitchen",
        price=Money(2_000, "USD"),
        attributes={},
        moderation_required=True,
        options=[{"name": "Size", "values": ["S", "M"]}],
    )
    product.approve()
    product.edit(title="Gold teapot", price=Money(1_500, "USD"), moderation_required=True)
    product.reject("no")
    product.edit(title="Silver teapot", moderation_required=True)
    product.edit(title="Teapot", moderation_required=True)
    product.edit(title="Iron teapot", moderation_required=True)
    product.approve()
    small = product.add_variant(uuid4(), sku="TP-S", options={"Size": "S"}, price=None)
    product.edit_variant(small.id, price=Money(1_200, "USD"))
    product.set_options([{"name": "Size", "values": ["S", "M", "L"]}])
    product.retire_variant(small.id)
    first, second = uuid4(), uuid4()
    for image in (first, second):
        product.add_image(image, "image/png", 10, 10, {"original": f"{image}.png"})
    product.reorder_images([second, first])
    product.remove_image(first)
    now = datetime.now(UTC)
    product.feature(now + timedelta(days=1), now)
    product.unfeature()
    product.set_commission(500)
    return product


def test_a_product_is_stored_and_read_under_its_topics(log: EventLog) -> None:
    product = a_product_in_every_part()
    claim, ref = SkuClaim.claim(product), VariantRef.of(product, uuid4())
    topics = stored_topics(log, product, claim, ref)
    assert topics == [
        f"domain.catalog:Product.{name}"
        for name in (
            "Listed",
            "OptionsSet",
            "Approved",
            "Edited",
            "PriceLowered",
            "RevisionProposed",
            "RevisionRejected",
            "RevisionProposed",
            "RevisionWithdrawn",
            "RevisionProposed",
            "RevisionApproved",
            "VariantAdded",
            "VariantEdited",
            "OptionsSet",
            "VariantRetired",
            "ImageAdded",
            "ImageAdded",
            "ImagesReordered",
            "ImageRemoved",
            "Featured",
            "Unfeatured",
            "CommissionSet",
        )
    ] + ["domain.catalog:SkuClaim.Claimed", "domain.catalog:VariantRef.Made"]
    again = reloaded(log, product)
    assert isinstance(again, Product)
    assert vars(again) == vars(product)
    assert isinstance(reloaded(log, claim), SkuClaim)
    assert isinstance(reloaded(log, ref), VariantRef)


class PlainHasher:
    def hash(self, password: str) -> str:
        return f"plain:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == self.hash(password)


def test_tenants_users_and_email_claims_are_stored_and_read_under_their_topics(
    log: EventLog,
) -> None:
    tenant = Tenant.register(uuid4(), "Market", "EUR", 1_000, 14)
    tenant.set_category_commission("kitchen", 800)
    tenant.set_minimum_payout(1_000, "EUR")
    tenant.set_payout_schedule(PayoutSchedule("weekly", 1))
    tenant.scheduled_payouts_ran("2026-W49")
    tenant.set_dispute_policy("platform")
    tenant.set_return_window(30)
    tenant.set_seller_signup(False)
    tenant.set_commission_on_shipping(True)
    user = User.register(tenant.id, "ana@example.com", "long enough", ["buyer"], PlainHasher())
    user.verify_email()
    user.change_password("plain:another one", datetime.now(UTC))
    claim = EmailClaim.claim(user)
    claim.note_sign_up_attempt()
    user.erase()
    successor = User.register(tenant.id, "ana@example.com", "long enough", ["buyer"], PlainHasher())
    claim.reclaim(successor, user)

    topics = stored_topics(log, tenant, user, claim)
    assert topics == [
        f"domain.identity:Tenant.{name}"
        for name in (
            "Registered",
            "CategoryCommissionSet",
            "MinimumPayoutSet",
            "PayoutScheduleSet",
            "ScheduledPayoutsRan",
            "DisputePolicySet",
            "ReturnWindowSet",
            "SellerSignUpSet",
            "ShippingCommissionSet",
        )
    ] + [
        f"domain.identity:User.{name}"
        for name in ("Registered", "EmailVerified", "PasswordChanged", "SessionsRevoked", "Erased")
    ] + [
        f"domain.identity:EmailClaim.{name}" for name in ("Claimed", "SignUpAttempted", "Reclaimed")
    ]
    for aggregate in (tenant, claim):
        again = reloaded(log, aggregate)
        assert type(again) is type(aggregate)
        assert vars(again) == vars(aggregate)
    again_user = reloaded(log, user)
    assert isinstance(again_user, User)
    assert again_user.erased
