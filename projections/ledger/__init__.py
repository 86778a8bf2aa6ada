"""The ledger's read models: `projector` folds accounts, transfers, posted entries and payouts
into the tables `tables` defines; `queries` reads balances, statements and the journal within a
tenant scope."""
