"""Reconciliation's read models: `projector` keeps the links between Velora's ids and the payment
provider's (which intent an order has, which provider refund a refund made, which transfers a
payout made) and each recorded reconciliation; `queries` reads them, and processor clearing's
movements of a day from the ledger's model, within a tenant scope."""
