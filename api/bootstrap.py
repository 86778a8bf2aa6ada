"""The composition root: the one place that builds Velora's object graph from settings.
`velora serve`, the workers, the CLI and the tests all build through `build()`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from api.idempotency import IdempotencyStore
from api.ratelimit import RateLimits
from api.scheduler import Scheduler
from api.security import Argon2Hasher, TokenService
from api.settings import Settings, SettingsError
from domain.payments import PaymentProvider
from eventstore.audit import AuditTrail, NotStoppedThere, OperatorApplication
from eventstore.catalog import CatalogApplication
from eventstore.checkout import CheckoutApplication
from eventstore.context import CommandContext
from eventstore.fulfilment import FulfilmentApplication
from eventstore.identity import IdentityApplication
from eventstore.kafka import Broker, KafkaPublisher, KafkaSource, topic_names
from eventstore.log import EventLog, open_event_log
from eventstore.payments import LocalPaymentProvider
from eventstore.payouts import PayoutApplication
from eventstore.refunds import RefundApplication
from eventstore.relay import Batch, Relay
from eventstore.sellers import SellerApplication
from eventstore.stripe import StripeProvider
from eventstore.verify import Verifier
from projections import migrate as read_migrations
from projections.catalog import CatalogProjector, CatalogQueries, SellersProjector
from projections.identity import IdentityProjector, IdentityQueries
from projections.ledger import LedgerProjector, LedgerQueries
from projections.notifications import CONSUMER as NOTIFICATIONS
from projections.notifications import KINDS as NOTIFIED_KINDS
from projections.notifications import (
    EmailPort,
    Handled,
    LoggingEmail,
    NotificationsConsumer,
    forget_consumed,
)
from projections.orders import CartsProjector, OrderQueries, OrdersProjector
from projections.personal import PersonalData
from projections.rebuild import ModelRebuildReport, Progress, quiet, rebuild_models
from projections.runner import ProjectionGroup, ProjectionRunner
from projections.search.opensearch_index import OpenSearchIndex
from projections.search.port import SearchIndex
from projections.search.projector import SearchProjector
from projections.search.rebuild import RebuildReport, rebuild_search
from projections.search.tantivy_index import TantivyIndex
from projections.store import ReadStore, make_engine

# The relay's name: its position is kept under it.
RELAY = "kafka"


@dataclass
class Container:
    settings: Settings
    log: EventLog
    read_store: ReadStore
    identity: IdentityApplication
    identity_queries: IdentityQueries
    personal_data: PersonalData
    sellers: SellerApplication
    catalog: CatalogApplication
    catalog_queries: CatalogQueries
    checkout: CheckoutApplication
    fulfilment: FulfilmentApplication
    order_queries: OrderQueries
    scheduler: Scheduler
    ledger_queries: LedgerQueries
    webhook_secret: str
    refunds: RefundApplication
    payouts: PayoutApplication
    tokens: TokenService
    hasher: Argon2Hasher
    idempotency: IdempotencyStore
    limits: RateLimits
    search: SearchIndex
    audit: AuditTrail
    verifier: Verifier
    operator: OperatorApplication
    runners: list[ProjectionRunner] = field(default_factory=list)
    # The one thread that runs every projector when they run in this process.
    projectors: ProjectionGroup | None = None
    # The Kafka cluster, when VELORA_KAFKA_BOOTSTRAP names one.
    broker: Broker | None = None

    def migrate(self) -> None:
        """Creates or upgrades the event store and the read-model schema (idempotent)."""
        self.log.migrate()
        read_migrations.upgrade(self.read_store.engine)

    def runner(self, name: str) -> ProjectionRunner:
        for runner in self.runners:
            if runner.name == name:
                return runner
        raise KeyError(name)

    def catch_up(self) -> None:
        """Brings every projection up to the log's current head (tests and the CLI)."""
        assert self.projectors is not None
        self.projectors.catch_up()

    def wait_for_projections(self, position: int, names: tuple[str, ...], timeout_s: float) -> bool:
        """Waits until the named read models have processed `position`; False on timeout."""
        deadline = time.monotonic() + timeout_s
        delay_s = 0.005
        while True:
            positions = self.read_store.positions()
            if all(positions.get(name, 0) >= position for name in names):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay_s)
            delay_s = min(delay_s * 2, 0.2)

    def projection_status(self) -> list[dict[str, Any]]:
        """Each projector's position, the log's head, the lag, and where it stopped if it did."""
        head = self.log.head()
        rows = {r["name"]: r for r in self.read_store.tracking()}
        status = []
        for runner in self.runners:
            row = rows.get(runner.name, {})
            position = int(row.get("position", 0))
            status.append(
                {
                    "name": runner.name,
                    "position": position,
                    "head": head,
                    "lag": head - position,
                    "failed_position": row.get("failed_position"),
                    "failure": row.get("failure"),
                    "paused_by": row.get("paused_by"),
                }
            )
        return status

    def skip_event(self, ctx: CommandContext, name: str, position: int) -> int:
        """Moves a stopped projector past the event it stopped on, and records that decision.
        Refused unless the projector is stopped at exactly that position."""
        runner = self.runner(name)
        row = next((r for r in self.read_store.tracking() if r["name"] == name), {})
        if row.get("failed_position") != position:
            raise NotStoppedThere(f"{name} is not stopped at position {position}")
        recorded = self.operator.record_skip(ctx, name, position, row.get("failure") or "")
        with self.read_store.begin() as conn:
            current = self.read_store.lock(conn, name)
            self.read_store.place(conn, name, max(current, position))
        runner.wake()
        return recorded

    def rebuild_search(self, on_progress: Progress | None = None) -> RebuildReport:
        """Builds a new search index beside the live one and switches to it once caught up."""
        return rebuild_search(
            self.log, self.read_store, self.search, on_progress=on_progress or quiet
        )

    def rebuildable_models(self) -> list[str]:
        """The projectors whose SQL tables `rebuild_models` can rebuild, upstream first."""
        return [r.name for r in self.runners if r.projector.writes]

    def rebuild_models(
        self, names: Sequence[str], *, force: bool = False, on_progress: Progress | None = None
    ) -> ModelRebuildReport:
        """Rebuilds the named SQL read models in shadow tables, compares their checksums with
        the live ones, and swaps them in when they match (or when forced)."""
        wanted = {self.runner(name).name for name in names}  # an unknown name raises here
        # In the projection group's order, upstream first: locking their tracking rows in
        # another order could deadlock with the group applying a batch.
        projectors = [r.projector for r in self.runners if r.name in wanted]
        return rebuild_models(
            self.log, self.read_store, projectors, force=force, on_progress=on_progress or quiet
        )

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
            self.read_store, email or LoggingEmail(), name=NOTIFICATIONS, on_handled=on_handled
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
        assert self.projectors is not None
        self.projectors.start()

    def stop_projections(self) -> None:
        if self.projectors is not None:
            self.projectors.stop()

    def close(self) -> None:
        self.stop_projections()
        self.idempotency.stop()
        self.search.close()
        self.log.close()
        self.read_store.engine.dispose()


def payment_provider(settings: Settings, tokens: TokenService) -> PaymentProvider:
    """Stripe when a key is configured, else the local provider of the embedded default."""
    if settings.stripe_api_key:
        return StripeProvider(
            settings.stripe_api_key.get_secret_value(), api_base=settings.stripe_api_base
        )
    return LocalPaymentProvider(tokens.secret_for("local-payments"))


def search_index(settings: Settings) -> SearchIndex:
    """OpenSearch when a URL is configured, else tantivy under the data directory."""
    if settings.opensearch_url:
        return OpenSearchIndex(settings.opensearch_url)
    return TantivyIndex(settings.data_dir / "search")


def follow_upstreams(runners: list[ProjectionRunner]) -> None:
    """Wakes each runner whenever a projector it reads from moves on."""
    by_name = {runner.name: runner for runner in runners}
    for runner in runners:
        for name in runner.projector.upstream:
            by_name[name].followers.append(runner)


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    tokens = TokenService(settings.signing_key(), settings.token_ttl_s)
    log = open_event_log(
        settings.eventstore_url, settings.data_dir, secret=tokens.secret_for("personal-keys")
    )
    store = ReadStore(make_engine(settings.read_db_url, settings.data_dir))
    search = search_index(settings)
    runners = [
        ProjectionRunner(log, store, projector)
        for projector in (
            IdentityProjector(),
            SellersProjector(),
            CatalogProjector(),
            SearchProjector(search),
            OrdersProjector(),
            CartsProjector(),
            LedgerProjector(),
        )
    ]
    follow_upstreams(runners)
    # A short poll: writes by other processes (API workers, the CLI) wake no one here.
    projectors = ProjectionGroup(log, store, runners, poll_interval_s=0.05)

    def wake_projections(_position: int) -> None:
        # In-process projectors start on a new event at once instead of at their next poll.
        projectors.wake()

    hasher = Argon2Hasher(concurrent=settings.password_checks)
    checkout = CheckoutApplication(
        log, payment_provider(settings, tokens), on_recorded=wake_projections
    )
    order_queries = OrderQueries(store)
    fulfilment = FulfilmentApplication(log, on_recorded=wake_projections)
    idempotency = IdempotencyStore(store, ttl_s=settings.idempotency_ttl_s)
    consumed_retention = timedelta(days=settings.consumed_retention_days)
    chores = {
        "idempotency_keys": idempotency.purge_expired,
        "consumed_events": lambda now: forget_consumed(store, now - consumed_retention),
    }
    return Container(
        settings=settings,
        log=log,
        read_store=store,
        identity=IdentityApplication(log, hasher, on_recorded=wake_projections),
        identity_queries=IdentityQueries(store),
        personal_data=PersonalData(store),
        sellers=SellerApplication(log, on_recorded=wake_projections),
        catalog=CatalogApplication(log, on_recorded=wake_projections),
        catalog_queries=CatalogQueries(store),
        checkout=checkout,
        fulfilment=fulfilment,
        order_queries=order_queries,
        scheduler=Scheduler(order_queries, checkout, fulfilment, chores=chores),
        ledger_queries=LedgerQueries(store),
        webhook_secret=settings.webhook_secret() or tokens.secret_for("stripe-webhook"),
        refunds=RefundApplication(log, checkout.payments, on_recorded=wake_projections),
        payouts=PayoutApplication(log, checkout.payments, on_recorded=wake_projections),
        tokens=tokens,
        hasher=hasher,
        idempotency=idempotency,
        limits=RateLimits.from_settings(settings),
        search=search,
        audit=AuditTrail(log),
        verifier=Verifier(log),
        operator=OperatorApplication(log, on_recorded=wake_projections),
        runners=runners,
        projectors=projectors,
        broker=Broker(settings.kafka_bootstrap) if settings.kafka_bootstrap else None,
    )
