"""Adapters: each one technology behind a port the rest of Velora defines (payments, blobs,
Kafka, CloudEvents, email, search). Only the composition root (`api/bootstrap.py` and the
contexts it wires in `api/wiring/`) and the tests import them; an adapter may import the port it
implements and the types it speaks in, never another adapter (docs/architecture.md,
"Adapters")."""
