"""The composition root: the one place that builds Velora's object graph from settings.
`velora serve`, the workers, the CLI and the tests all build through `build()`.

Each bounded context wires its own parts in `api/wiring/` (see its docstring); `build()` wires
them in the order their dependencies need and assembles them into the `Container`, whose
methods start, run and close the whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from adapters.cloudevents import CloudEvents
from adapters.kafka import Broker, KafkaPublisher, KafkaSource, topic_names
from api.settings import Settings, SettingsError
from api.wiring.accounts import AccountParts, wire_accounts
from api.wiring.catalog import CatalogParts, wire_catalog
from api.wiring.guards import GuardParts, wire_guards
from api.wiring.mail import MailParts, wire_mail
from api.wiring.media import MediaParts, wire_media
from api.wiring.money import MoneyParts, wire_money
from api.wiring.operator import OperatorParts, wire_operator
from api.wiring.orders import OrderParts, wire_orders
from api.wiring.organisations import OrganisationParts, wire_organisations
from api.wiring.platform import Platform, Projections, Wiring, open_platform
from api.wiring.profiles import ProfileParts, wire_profiles
from api.wiring.reconciliation import ReconciliationParts, wire_reconciliation
from api.wiring.scheduler import SchedulerParts, wire_scheduler
from api.wiring.search import SearchParts, wire_search
from api.wiring.storefront import StorefrontParts, wire_storefront
from api.wiring.webhooks import WebhookParts, wire_webhooks
from api.wiring.wishlists import WishlistParts, wire_wishlists
from eventstore.relay import Batch, Relay
from migrations import runner as read_migrations
from projections.mail import EmailPort
from projections.notifications.consumer import CONSUMER as NOTIFICATIONS
from projections.notifications.consumer import KINDS as NOTIFIED_KINDS
from projections.notifications.consumer import Handled, NotificationsConsumer

# The relay's name: its position is kept under it.
RELAY = "kafka"


@dataclass
class Container(
    Platform,
    Projections,
    MailParts,
    AccountParts,
    StorefrontParts,
    ProfileParts,
    MediaParts,
    CatalogParts,
    SearchParts,
    OrderParts,
    WishlistParts,
    OrganisationParts,
    MoneyParts,
    ReconciliationParts,
    WebhookParts,
    GuardParts,
    SchedulerParts,
    OperatorParts,
):
    """Every part of every context, under one name each: a route's dependency reads one of
    them (`api/deps.py`), and the methods below start, run and close them together."""

    @classmethod
    def assemble(cls, *parts: Any) -> Container:
        """The container of these parts, one of each of its bases."""
        kinds = [type(part) for part in parts]
        assert sorted(kinds, key=id) == sorted(cls.__bases__, key=id), "one part of each base"
        return cls(**{f.name: getattr(part, f.name) for part in parts for f in fields(part)})

    def migrate(self) -> None:
        """Creates or upgrades the event store and the read-model schema (idempotent)."""
        self.log.migrate()
        read_migrations.upgrade(self.read_store.engine)

    def catch_up(self) -> None:
        """Brings every projection up to the log's current head (tests and the CLI)."""
        self.projectors.catch_up()

    def wait_for_projections(self, position: int, names: tuple[str, ...], timeout_s: float) -> bool:
        """Waits until the named read models have processed `position`; False on timeout."""
        return self.read_store.wait_for(position, names, timeout_s)

    def projector_positions(self) -> dict[str, int]:
        positions = self.read_store.positions()
        return {runner.name: positions.get(runner.name, 0) for runner in self.runners}

    def relay_positions(self) -> dict[str, int]:
        """How far the relay has published, when a broker is configured to publish to."""
        if self.broker is None:
            return {}
        return {RELAY: self.log.relay_positions.get(RELAY)}

    def require_broker(self) -> Broker:
        if self.broker is None:
            raise SettingsError("set VELORA_KAFKA_BOOTSTRAP to the Kafka brokers (host:port,...)")
        return self.broker

    def relay(self, on_batch: Callable[[Batch], None] = lambda _: None) -> Relay:
        """The relay publishing the log to Kafka, its topics created if missing."""
        broker, s = self.require_broker(), self.settings
        broker.ensure_topics(
            topic_names(s.kafka_topic_prefix),
            partitions=s.kafka_partitions,
            replication=s.kafka_replication_factor,
        )
        return Relay(
            self.log,
            KafkaPublisher(broker.bootstrap),
            envelope=CloudEvents(),
            name=RELAY,
            topic_prefix=s.kafka_topic_prefix,
            on_batch=on_batch,
        )

    def notifications(
        self,
        email: EmailPort | None = None,
        on_handled: Callable[[Handled], None] = lambda _: None,
    ) -> NotificationsConsumer:
        return NotificationsConsumer(
            self.read_store,
            email or self.mail,
            templates=self.mail_templates,
            name=NOTIFICATIONS,
            on_handled=on_handled,
        )

    def notification_source(self, max_records: int = 200) -> KafkaSource:
        """The notifications consumer group's subscription to the order and payment topics."""
        prefix = self.settings.kafka_topic_prefix
        return KafkaSource(
            self.require_broker().bootstrap,
            group_id=f"{prefix}.{NOTIFICATIONS}",
            topics=[f"{prefix}.{kind}" for kind in NOTIFIED_KINDS],
            client_id=f"velora-{NOTIFICATIONS}",
            max_records=max_records,
        )

    def start_projections(self) -> None:
        self.projectors.start()

    def stop_projections(self) -> None:
        self.projectors.stop()

    def start_background(self) -> None:
        """What `velora serve` runs beside the API by default: the projectors, the scheduler
        and the webhook dispatcher."""
        self.start_projections()
        self.scheduler.start()
        self.webhook_dispatcher.start()

    def stop_background(self) -> None:
        self.webhook_dispatcher.stop()
        self.scheduler.stop()
        self.stop_projections()

    def close(self) -> None:
        self.webhook_dispatcher.stop()
        self.webhook_dispatcher.deliverer.close()
        self.stop_projections()
        self.account_mail.close()
        self.idempotency.stop()
        self.search.close()
        self.log.close()
        self.read_store.engine.dispose()


def build(settings: Settings | None = None) -> Container:
    """Wires every context, each after those whose parts it takes; the projectors run in the
    order their contexts are wired."""
    platform = open_platform(settings or Settings())
    wiring = Wiring(platform)
    mail = wire_mail(wiring)
    accounts = wire_accounts(wiring, mail)
    storefront = wire_storefront(wiring)
    profiles = wire_profiles(wiring)
    media = wire_media(wiring)
    catalog = wire_catalog(wiring, media)
    search = wire_search(wiring)
    orders = wire_orders(wiring)
    wishlists = wire_wishlists(wiring)
    organisations = wire_organisations(wiring)
    money = wire_money(wiring, orders, accounts, catalog)
    reconciliation = wire_reconciliation(wiring, orders)
    webhooks = wire_webhooks(wiring)
    guards = wire_guards(wiring)
    projections = wiring.projections()
    return Container.assemble(
        platform,
        projections,
        mail,
        accounts,
        storefront,
        profiles,
        media,
        catalog,
        search,
        orders,
        wishlists,
        organisations,
        money,
        reconciliation,
        webhooks,
        guards,
        wire_scheduler(wiring, guards, orders, catalog, money, reconciliation),
        wire_operator(wiring, projections, search),
    )
