"""A supervised daemon thread: the loop of the projectors, of one runner, or of another worker
of the read side (the API's heartbeat, say). A loop that dies is logged and starts again after a
back-off, so a database that lost a table for a moment stops the work only for that moment."""

from __future__ import annotations

import logging
import threading
import time

from projections import quarantine

log = logging.getLogger("velora.projections")


class Background:
    """A daemon thread running `_loop` until `stop`; `wake` cuts its current wait short.

    The thread is supervised: if `_loop` raises, the error is logged and kept in `crash`, and
    the loop starts again after a back-off that doubles from RESTART_MIN_S up to RESTART_MAX_S,
    so a database that lost a table for a moment stops the work only for that moment. `dead`
    says, for /readyz, the operations view and the metrics, that a started thread is gone or
    its loop is failing; `restarts` counts the restarts."""

    RESTART_MIN_S = 0.5
    RESTART_MAX_S = 10.0

    def __init__(self, thread_name: str) -> None:
        self.thread_name = thread_name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        # The error the loop last died of, until it runs a round through again.
        self.crash: str | None = None
        self.restarts = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._started = True
        self._thread = threading.Thread(target=self._supervised, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._started = False
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def dead(self) -> bool:
        """Started and not stopped, yet its thread is gone or its loop keeps failing."""
        return self._started and (not self.running or self.crash is not None)

    def _supervised(self) -> None:
        backoff_s = self.RESTART_MIN_S
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self._loop()
                return
            except Exception as e:
                self.crash = f"{type(e).__name__}: {e}"[: quarantine.FAILURE_CHARS]
                self.restarts += 1
                if time.monotonic() - began > self.RESTART_MAX_S:
                    backoff_s = self.RESTART_MIN_S  # it ran a while: a new trouble
                log.error(
                    "%s failed, starting again in %.1f s",
                    self.thread_name,
                    backoff_s,
                    exc_info=True,
                )
            if self._stop.wait(backoff_s):
                return
            backoff_s = min(backoff_s * 2, self.RESTART_MAX_S)

    def _ran(self) -> None:
        """A round of the loop went through: whatever it died of before is over."""
        self.crash = None

    def _loop(self) -> None:
        raise NotImplementedError
