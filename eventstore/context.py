"""Who caused a command, on whose behalf, and because of what. Applications take it explicitly;
the mapper reads it only while those applications save, to stamp every stored event's envelope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from uuid import uuid4


@dataclass(frozen=True)
class CommandContext:
    actor_id: str | None  # the user who issued it, "system:<reason>" for the platform itself
    correlation_id: str  # shared by everything one request (or one saga) causes
    causation_id: str  # the request id or event id that directly caused this command

    @classmethod
    def system(cls, reason: str) -> CommandContext:
        """A command the operator or the platform issues itself (CLI, scheduler)."""
        cid = f"{reason}:{uuid4()}"
        return cls(actor_id=f"system:{reason}", correlation_id=cid, causation_id=cid)

    def as_meta(self) -> dict[str, str | None]:
        return asdict(self)


_current: ContextVar[CommandContext | None] = ContextVar("velora_command_context", default=None)


@contextmanager
def recording_under(ctx: CommandContext) -> Iterator[None]:
    token = _current.set(ctx)
    try:
        yield
    finally:
        _current.reset(token)


def current_context() -> CommandContext:
    ctx = _current.get()
    if ctx is None:
        # Saving outside a command context would store events nobody can attribute.
        raise RuntimeError("events saved outside a CommandContext")
    return ctx
