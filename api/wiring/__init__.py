"""The parts of the composition root, one module per bounded context.

`platform.py` opens what every context stands on (settings, the token service, the event log,
the read store, the broker) and hands each context a `Wiring`: the platform's parts, the hook its
applications call when they record (it wakes this process's projectors), and the list its
projectors join. Each other module wires one context: a dataclass of the parts it contributes to
the container (applications, queries, adapters of its own), under the attribute names the routes
read through `api/deps.py`, and a `wire_<context>` function that builds them from the wiring and
the parts of the contexts it uses. `api/bootstrap.py` calls them in order and assembles their
parts into the one `Container`; nothing else builds anything.

A new context is a new module here: its parts and its `wire_` function, then one line in
`build()` and one base of `Container`."""
