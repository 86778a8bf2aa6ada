"""The ledger's read models: `projector` folds accounts, transfers, posted entries and payouts
into `tables`; the queries read balances, statements and the journal within a tenant scope."""
