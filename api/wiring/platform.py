"""What every context stands on: the settings, the token service, the event log, the read
store and the broker, opened once; and the `Wiring` each context is built with."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.kafka import Broker
from api.security import TokenService
from api.settings import Settings
from eventstore.currencies import install_iso_3166, install_iso_3166_2, install_iso_4217
from eventstore.log import EventLog, open_event_log
from projections.group import ProjectionGroup
from projections.projector import Projector
from projections.runner import ProjectionRunner, link
from projections.store import ReadStore, make_engine


@dataclass
class Platform:
    settings: Settings
    tokens: TokenService
    log: EventLog
    read_store: ReadStore
    # The Kafka cluster, when VELORA_KAFKA_BOOTSTRAP names one.
    broker: Broker | None


def open_platform(settings: Settings) -> Platform:
    install_iso_4217()  # the currencies commands may name
    install_iso_3166()  # and the countries
    install_iso_3166_2()  # and their subdivisions, which tax rates name
    tokens = TokenService(settings.signing_key(), settings.token_ttl_s)
    log = open_event_log(
        settings.eventstore_url, settings.data_dir, secret=tokens.secret_for("personal-keys")
    )
    return Platform(
        settings=settings,
        tokens=tokens,
        log=log,
        read_store=ReadStore(make_engine(settings.read_db_url, settings.data_dir)),
        broker=Broker(settings.kafka_bootstrap) if settings.kafka_bootstrap else None,
    )


@dataclass
class Projections:
    runners: list[ProjectionRunner]
    # The one thread that runs every projector when they run in this process.
    projectors: ProjectionGroup


class Wiring:
    """What a context is wired with: the platform's parts, the hook its applications call once
    they recorded (`recorded`), and the projectors of its read models (`project`), collected in
    the order the contexts are wired. That is the order a batch of the log is applied in, and a
    projector goes no further than the models it reads (`upstream`), so a context whose
    projectors read another's models is wired after it."""

    def __init__(self, platform: Platform) -> None:
        self.settings = platform.settings
        self.tokens = platform.tokens
        self.log = platform.log
        self.read_store = platform.read_store
        self._projectors: list[Projector] = []
        self._group: ProjectionGroup | None = None

    def project(self, *projectors: Projector) -> None:
        assert self._group is None, "a projector joined after the projections were built"
        self._projectors.extend(projectors)

    def recorded(self, _position: int) -> None:
        # In-process projectors start on a new event at once instead of at their next poll.
        if self._group is not None:
            self._group.wake()

    def projections(self) -> Projections:
        """A runner per projector and the group that runs them, once every context is wired."""
        names = [projector.name for projector in self._projectors]
        for at, projector in enumerate(self._projectors):
            later = [name for name in projector.upstream if name in names[at:]]
            assert not later, f"{projector.name} is wired before {later}, which it reads"
        log, store = self.log, self.read_store
        runners = [ProjectionRunner(log, store, projector) for projector in self._projectors]
        link(runners)
        # A short poll: writes by other processes (API workers, the CLI) wake no one here.
        self._group = ProjectionGroup(log, store, runners, poll_interval_s=0.05)
        return Projections(runners=runners, projectors=self._group)
