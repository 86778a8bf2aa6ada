"""The composition root: the one place that builds Velora's object graph from settings.
`velora serve`, the workers, the CLI and the tests all build through `build()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from api.idempotency import IdempotencyStore
from api.media import MediaUrls
from api.operations import Operations
from api.ratelimit import RateLimits
from api.security import Argon2Hasher, TokenService
from api.settings import Settings, SettingsError
from domain.media import BlobStore
from domain.payments import PaymentProvider
from eventstore.application import Contention
from eventstore.blobs import FileBlobStore, S3BlobStore
from eventstore.currencies import install_iso_3166, install_iso_4217
from eventstore.kafka import Broker, KafkaPublisher, KafkaSource, topic_names
from eventstore.log import EventLog, open_event_log
from eventstore.payments import LocalPaymentProvider
from eventstore.relay import Batch, Relay
from eventstore.stripe import StripeProvider
from eventstore.verify import Verifier
from migrations import runner as read_migrations
from projections.analytics.projector import AnalyticsProjector
from projections.analytics.queries import AnalyticsQueries
from projections.catalog.projector import CatalogProjector
from projections.catalog.queries import CatalogQueries
from projections.catalog.sellers import SellersProjector
from projections.categories import CategoriesProjector, CategoryQueries
from projections.group import ProjectionGroup
from projections.identity import IdentityProjector, IdentityQueries
from projections.ledger.projector import LedgerProjector
from projections.ledger.queries import LedgerQueries
from projections.mail import EmailPort, LoggingEmail, MailTemplates, SmtpEmail, TemplateProblem
from projections.notifications import CONSUMER as NOTIFICATIONS
from projections.notifications import KINDS as NOTIFIED_KINDS
from projections.notifications import Handled, NotificationsConsumer, forget_consumed
from projections.orders.carts import CartsProjector
from projections.orders.projector import OrdersProjector
from projections.orders.queries import OrderQueries
from projections.personal import PersonalData
from projections.profiles import ProfileQueries, ProfilesProjector
from projections.runner import ProjectionRunner, link
from projections.search.opensearch_index import OpenSearchIndex
from projections.search.port import SearchIndex
from projections.search.projector import SearchProjector
from projections.search.tantivy_index import TantivyIndex
from projections.store import ReadStore, make_engine
from projections.storefront import StorefrontProjector, StorefrontQueries
from projections.wishlists import WishlistQueries, WishlistsProjector
from services.account_mail import AccountMail
from services.accounts import AccountApplication
from services.audit import AuditTrail, OperatorApplication
from services.catalog import CatalogApplication
from services.categories import CategoryApplication
from services.checkout import CheckoutApplication
from services.disputes import DisputeApplication
from services.fulfilment import FulfilmentApplication
from services.identity import IdentityApplication
from services.payout_runs import PayoutRuns
from services.payouts import PayoutApplication
from services.profiles import ProfileApplication
from services.refunds import RefundApplication
from services.returns import ReturnApplication
from services.scheduler import Scheduler
from services.sellers import SellerApplication
from services.storefront import StorefrontApplication
from services.wishlists import WishlistApplication

# The relay's name: its position is kept under it.
RELAY = "kafka"


@dataclass
class Container:
    settings: Settings
    log: EventLog
    read_store: ReadStore
    identity: IdentityApplication
    accounts: AccountApplication
    identity_queries: IdentityQueries
    # Publishable keys: made and deleted by admins, checked on every guest request.
    storefront: StorefrontApplication
    storefront_queries: StorefrontQueries
    # Mail: the port (log line or SMTP), the templates, and the thread account mail goes on.
    mail: EmailPort
    mail_templates: MailTemplates
    account_mail: AccountMail
    personal_data: PersonalData
    profiles: ProfileApplication
    profile_queries: ProfileQueries
    wishlists: WishlistApplication
    wishlist_queries: WishlistQueries
    sellers: SellerApplication
    catalog: CatalogApplication
    catalog_queries: CatalogQueries
    categories: CategoryApplication
    category_queries: CategoryQueries
    blobs: BlobStore
    media_urls: MediaUrls
    checkout: CheckoutApplication
    fulfilment: FulfilmentApplication
    order_queries: OrderQueries
    analytics_queries: AnalyticsQueries
    scheduler: Scheduler
    ledger_queries: LedgerQueries
    webhook_secret: str
    refunds: RefundApplication
    disputes: DisputeApplication
    returns: ReturnApplication
    payouts: PayoutApplication
    payout_runs: PayoutRuns
    tokens: TokenService
    hasher: Argon2Hasher
    idempotency: IdempotencyStore
    limits: RateLimits
    search: SearchIndex
    audit: AuditTrail
    verifier: Verifier
    operations: Operations
    runners: list[ProjectionRunner] = field(default_factory=list)
    # The one thread that runs every projector when they run in this process.
    projectors: ProjectionGroup | None = None
    # The Kafka cluster, when VELORA_KAFKA_BOOTSTRAP names one.
    broker: Broker | None = None

    def migrate(self) -> None:
        """Creates or upgrades the event store and the read-model schema (idempotent)."""
        self.log.migrate()
        read_migrations.upgrade(self.read_store.engine)

    def catch_up(self) -> None:
        """Brings every projection up to the log's current head (tests and the CLI)."""
        assert self.projectors is not None
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
        assert self.projectors is not None
        self.projectors.start()

    def stop_projections(self) -> None:
        if self.projectors is not None:
            self.projectors.stop()

    def close(self) -> None:
        self.stop_projections()
        self.account_mail.close()
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


def blob_store(settings: Settings) -> BlobStore:
    """An S3 bucket when VELORA_S3_BUCKET names one, else files under the data directory."""
    if settings.s3_bucket:
        secret = settings.s3_secret_access_key
        return S3BlobStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
        )
    return FileBlobStore(settings.data_dir / "media")


def mail(settings: Settings) -> tuple[EmailPort, MailTemplates]:
    """The email port (SMTP when VELORA_SMTP_URL is set, else a log line per message) and the
    templates, the operator's checked now: a broken one stops Velora from starting."""
    templates = MailTemplates(settings.mail_templates, storefront_url=settings.storefront_url)
    try:
        templates.check()
        smtp = settings.smtp()
        port: EmailPort = SmtpEmail(smtp, settings.mail_from) if smtp else LoggingEmail()
    except (TemplateProblem, ValueError) as e:
        raise SettingsError(str(e)) from e
    return port, templates


def search_index(settings: Settings) -> SearchIndex:
    """OpenSearch when a URL is configured, else tantivy under the data directory."""
    if settings.opensearch_url:
        return OpenSearchIndex(settings.opensearch_url)
    return TantivyIndex(settings.data_dir / "search")


def settled_products_named(
    log: EventLog, store: ReadStore, queries: CategoryQueries
) -> Callable[[UUID, str], int]:
    """How many products name a category, counted once the catalog model has every event
    recorded so far: a product listed a moment ago is counted, so a category in use is never
    renamed or removed from under it."""

    def products_named(tenant_id: UUID, name: str) -> int:
        if not store.wait_for(log.head(), ("catalog",), timeout_s=5.0):
            raise Contention("the catalog is catching up; try again in a moment")
        return queries.products_named(tenant_id, name)

    return products_named


def settled_products_of(
    log: EventLog, store: ReadStore, queries: CatalogQueries
) -> Callable[[UUID, UUID], int]:
    """How many of a seller's products count against a plan's limit, counted once the catalog
    model has every event recorded so far (a product listed a moment ago counts)."""

    def products_of(tenant_id: UUID, seller_id: UUID) -> int:
        if not store.wait_for(log.head(), ("catalog",), timeout_s=5.0):
            raise Contention("the catalog is catching up; try again in a moment")
        return queries.products_counted(tenant_id, seller_id)

    return products_of


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    install_iso_4217()  # the currencies commands may name
    install_iso_3166()  # and the countries
    tokens = TokenService(settings.signing_key(), settings.token_ttl_s)
    log = open_event_log(
        settings.eventstore_url, settings.data_dir, secret=tokens.secret_for("personal-keys")
    )
    store = ReadStore(make_engine(settings.read_db_url, settings.data_dir))
    search = search_index(settings)
    blobs = blob_store(settings)
    runners = [
        ProjectionRunner(log, store, projector)
        for projector in (
            IdentityProjector(),
            StorefrontProjector(),
            ProfilesProjector(),
            SellersProjector(),
            CategoriesProjector(),
            CatalogProjector(),
            SearchProjector(search),
            OrdersProjector(),
            AnalyticsProjector(),
            CartsProjector(),
            WishlistsProjector(),
            LedgerProjector(),
        )
    ]
    link(runners)
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
    identity_queries = IdentityQueries(store)
    catalog_queries = CatalogQueries(store)
    category_queries = CategoryQueries(store)
    ledger_queries = LedgerQueries(store)
    payouts = PayoutApplication(log, checkout.payments, on_recorded=wake_projections)
    fulfilment = FulfilmentApplication(log, on_recorded=wake_projections)
    products_of = settled_products_of(log, store, catalog_queries)
    catalog = CatalogApplication(
        log, blobs, products_of, image_decodes=settings.image_decodes, on_recorded=wake_projections
    )
    sellers = SellerApplication(log, products_of, on_recorded=wake_projections)
    mail_port, mail_templates = mail(settings)
    account_mail = AccountMail(mail_port, mail_templates)
    identity = IdentityApplication(
        log,
        hasher,
        account_mail,
        verification_ttl=timedelta(seconds=settings.email_verification_ttl_s),
        on_recorded=wake_projections,
    )
    accounts = AccountApplication(
        log,
        identity,
        hasher,
        account_mail,
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_s),
        reset_ttl=timedelta(seconds=settings.password_reset_ttl_s),
        on_recorded=wake_projections,
    )
    payout_runs = PayoutRuns(
        log,
        store,
        payouts,
        identity_queries,
        catalog_queries,
        order_queries,
        ledger_queries,
        identity,
    )
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
        identity=identity,
        accounts=accounts,
        identity_queries=identity_queries,
        storefront=StorefrontApplication(log, on_recorded=wake_projections),
        storefront_queries=StorefrontQueries(store),
        mail=mail_port,
        mail_templates=mail_templates,
        account_mail=account_mail,
        personal_data=PersonalData(store),
        profiles=ProfileApplication(log, on_recorded=wake_projections),
        profile_queries=ProfileQueries(store),
        wishlists=WishlistApplication(log, on_recorded=wake_projections),
        wishlist_queries=WishlistQueries(store),
        sellers=sellers,
        catalog=catalog,
        blobs=blobs,
        media_urls=MediaUrls(tokens.secret_for("media-urls"), settings.media_url_ttl_s),
        catalog_queries=catalog_queries,
        categories=CategoryApplication(
            log, settled_products_named(log, store, category_queries), on_recorded=wake_projections
        ),
        category_queries=category_queries,
        checkout=checkout,
        fulfilment=fulfilment,
        order_queries=order_queries,
        analytics_queries=AnalyticsQueries(store),
        scheduler=Scheduler(
            order_queries,
            checkout,
            fulfilment,
            catalog,
            catalog_queries,
            sellers,
            payout_runs,
            chores=chores,
        ),
        ledger_queries=ledger_queries,
        webhook_secret=settings.webhook_secret() or tokens.secret_for("stripe-webhook"),
        refunds=RefundApplication(log, checkout.payments, on_recorded=wake_projections),
        disputes=DisputeApplication(log, on_recorded=wake_projections),
        returns=ReturnApplication(log, checkout.payments, on_recorded=wake_projections),
        payouts=payouts,
        payout_runs=payout_runs,
        tokens=tokens,
        hasher=hasher,
        idempotency=idempotency,
        limits=RateLimits.from_settings(settings),
        search=search,
        audit=AuditTrail(log),
        verifier=Verifier(log),
        operations=Operations(
            log, store, search, OperatorApplication(log, on_recorded=wake_projections), runners
        ),
        runners=runners,
        projectors=projectors,
        broker=Broker(settings.kafka_bootstrap) if settings.kafka_bootstrap else None,
    )
