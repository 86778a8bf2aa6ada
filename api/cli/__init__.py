"""The `velora` command. Its commands live in one module per group: `serve` (the API and the
migrations), `workers` (projectors, scheduler, relay, consumers), `backups`, `admin`,
`projectors` (the read models' operations), `audit` and `reconcile` (a day reconciled again
with the payment provider); `common` holds the groups and what the commands share. Importing a
module registers its commands, so the modules are imported here in the order `velora --help`
lists them."""

# isort: off
from api.cli import serve, workers, backups, admin, projectors, audit, reconcile  # noqa: F401

# isort: on
from api.cli.common import app


def main() -> None:
    app()
