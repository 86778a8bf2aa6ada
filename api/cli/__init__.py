"""The `velora` command. Its commands live in one module per group: `serve` (the API and the
migrations), `workers` (projectors, scheduler, relay, consumers), `backups`, `admin`,
`projectors` (the read models' operations), `audit` and `reconcile` (a day reconciled again
with the payment provider); `common` holds the groups and what the commands share. Importing a
module registers its commands, so the modules are imported here in the order `velora --help`
lists them.

A mistake in the configuration is told in one line naming the variable (or the store that
cannot be reached, or the step missing), with exit code 2; `--debug` shows the traceback too.
A `VELORA_*` variable that names no setting is warned of at start (it would be ignored)."""

import difflib
import os
import sys

import pydantic
from rich.console import Console

# isort: off
from api.cli import serve, workers, backups, admin, projectors, audit, reconcile  # noqa: F401

# isort: on
from api.cli.common import UNREACHABLE, app
from api.settings import Settings

# VELORA_* names that are not Velora's settings: the test suite's and its service script's.
NOT_SETTINGS = ("VELORA_TEST_", "VELORA_MODEL_EXAMPLES", "VELORA_REQUIRE_SERVICES")
stderr = Console(stderr=True)


def main() -> None:
    debug = "--debug" in sys.argv[1:]
    if debug:
        sys.argv.remove("--debug")
    for warning in unknown_settings(os.environ):
        stderr.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    try:
        app()
    except Exception as e:
        told = configuration_error(e)
        if debug or told is None:
            raise
        stderr.print(
            f"[red]cannot run:[/red] {told} (--debug shows more)", highlight=False, soft_wrap=True
        )
        sys.exit(2)


def unknown_settings(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """A warning for each VELORA_* variable that names no setting, with the nearest one."""
    known = [f"VELORA_{name.upper()}" for name in Settings.model_fields]
    warnings = []
    for name in sorted(environ):
        if not name.startswith("VELORA_") or name in known or name.startswith(NOT_SETTINGS):
            continue
        near = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        warnings.append(f"{name} is not a Velora setting and is ignored{hint}")
    return warnings


def configuration_error(error: BaseException) -> str | None:
    """One line for an error that is the configuration's or the deployment's, not Velora's:
    a setting's value, a store that cannot be reached, stores not migrated yet. None for
    anything else, which keeps its traceback."""
    if isinstance(error, pydantic.ValidationError):
        return "; ".join(
            f"VELORA_{'_'.join(map(str, e['loc'])).upper()}: "
            + e["msg"].removeprefix("Value error, ")
            for e in error.errors()
        )
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if _not_migrated(text):
        return f"the stores are not set up yet ({text}): run `velora migrate` first"
    if isinstance(error, UNREACHABLE):
        return f"a database cannot be reached ({_which(error)}): {text}"
    return None


def _not_migrated(text: str) -> bool:
    lowered = text.lower()
    return "no such table" in lowered or (
        ("relation" in lowered or "table" in lowered)
        and ("does not exist" in lowered or "doesn't exist" in lowered)
    )


def _which(error: BaseException) -> str:
    """Which store an unreachable database is: the event store's driver is psycopg, the read
    models' SQLAlchemy."""
    module = type(error).__module__
    if module.startswith("eventsourcing") or "psycopg" in repr(error.__cause__):
        return "the event store, VELORA_EVENTSTORE_URL"
    return "the read models, VELORA_READ_DB_URL"
