"""Logs: one JSON object per line, through structlog, for Velora's own loggers and for the
standard library's (uvicorn, the projectors, the relay) alike. Lines written while a request is
served carry its request id, and the tenant and user once the caller has signed in."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Any, TextIO

import structlog

# The request being served. A dict, shared by reference: handlers run in worker threads with a
# copy of the context, and what the auth dependency adds there must reach the access log too.
_REQUEST: ContextVar[dict[str, str] | None] = ContextVar("velora_request", default=None)


def start_request(request_id: str) -> dict[str, str]:
    context = {"request_id": request_id}
    _REQUEST.set(context)
    return context


def bind_request(**values: str) -> None:
    """Adds to what every log line of the current request carries (tenant_id, user_id)."""
    context = _REQUEST.get()
    if context is not None:
        context.update(values)


def _add_request(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in (_REQUEST.get() or {}).items():
        event.setdefault(key, value)
    return event


def configure(level: str = "INFO", *, json: bool = True, stream: TextIO | None = None) -> None:
    """Routes every logger to one handler that writes JSON lines (or, for a terminal, readable
    ones). Idempotent: a second call replaces the first's handler."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("velora")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "velora"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # kafka-python narrates every connection and rebalance at INFO: only its warnings, unless
    # the operator asked for DEBUG.
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    logging.getLogger("kafka").setLevel(quiet)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
