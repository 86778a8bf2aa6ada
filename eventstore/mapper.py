"""Stored events are envelopes: the domain event's own state under "data", and under "meta" who
caused it (actor, correlation, causation). The domain never sees the envelope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    Notification,
    StoredEvent,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from domain.personal import personal_fields
from eventstore.context import current_context
from eventstore.personal import PersonalCipher, PersonalKeys


@dataclass(frozen=True)
class RecordedEvent:
    """One event as read back from the log, with its position and envelope."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    event: Any
    meta: dict[str, Any]

    @property
    def event_id(self) -> UUID:
        # Stable across replays and rebuilds, so consumers can drop duplicates by it.
        return event_id(self.originator_id, self.originator_version)

    @property
    def type_name(self) -> str:
        return self.topic.rsplit(":", 1)[-1]


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"velora:event:{originator_id}:{originator_version}")


def make_transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    return transcoder


class PersonalDataUnsealed(RuntimeError):
    """An event with personal fields reached a mapper that has no keys to seal them with."""


class EnvelopeMapper(Mapper[UUID]):
    def __init__(self, keys: PersonalKeys | None = None) -> None:
        super().__init__(transcoder=make_transcoder())
        self.personal = (
            PersonalCipher(keys, self.transcoder.encode, self.transcoder.decode) if keys else None
        )

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        self._seal(type(domain_event), state, originator_id)
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        envelope = {"data": state, "meta": current_context().as_meta()}
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=self.transcoder.encode(envelope),
        )

    def _seal(self, cls: type, state: dict[str, Any], originator_id: UUID) -> None:
        """Seals the event's personal fields with their person's key, before anything is stored."""
        for field, whose in personal_fields(cls).items():
            if self.personal is None:
                raise PersonalDataUnsealed(f"{cls.__qualname__}.{field} needs a personal key")
            subject = originator_id if whose == "originator_id" else state[whose]
            state[field] = self.personal.seal(state[field], subject)

    def decode_envelope(self, stored: StoredEvent) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event's data, personal fields opened (or redacted, once their key is gone), and
        its envelope's meta."""
        envelope = self.transcoder.decode(stored.state)
        data = envelope["data"]
        if self.personal is not None:
            data = {k: self.personal.open(v) for k, v in data.items()}
        return data, envelope["meta"]

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        data, _ = self.decode_envelope(stored_event)
        return self._event_from(stored_event, data)

    def to_recorded(self, notification: Notification) -> RecordedEvent:
        data, meta = self.decode_envelope(notification)
        return RecordedEvent(
            position=notification.id,
            originator_id=UUID(str(notification.originator_id)),
            originator_version=notification.originator_version,
            topic=notification.topic,
            event=self._event_from(notification, data),
            meta=meta,
        )

    @staticmethod
    def _event_from(stored: StoredEvent, data: dict[str, Any]) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored.topic)
        state = dict(data)
        to_id = find_id_convertor(cls, type(stored.originator_id))  # type: ignore[arg-type]
        state["originator_id"] = to_id(stored.originator_id)
        state["originator_version"] = stored.originator_version
        from_version = state.pop("class_version", 1)
        while from_version < getattr(cls, "class_version", 1):
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event  # type: ignore[no-any-return]
