"""The use cases: one eventsourcing application per bounded context (identity, sellers, catalog,
checkout, fulfilment, refunds, payouts, audit), each loading aggregates, calling the domain and
saving what changed, plus the flows that read the read models to decide which commands to run
(the scheduler, payout runs). `api/` calls these; they call `domain/`, store through
`eventstore/` and read through `projections/`."""
