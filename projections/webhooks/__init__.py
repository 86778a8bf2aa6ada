"""Webhooks to other apps (domain/webhooks.py): `projector` keeps each tenant's endpoints,
`outbox` makes a delivery for each event an endpoint receives, in the same transaction as its
position in the log, and `dispatch` sends them; `queries` answers the admin's lists."""
