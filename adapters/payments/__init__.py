"""The payment providers behind `domain.payments.PaymentProvider`: Stripe, and the local one of
the embedded default."""
