"""The notifications consumer (`velora consume notifications`): `consumer` records a
notification for each buyer and seller a published event concerns and hands it to the email
port; `tables` defines what it records, which no projector writes."""
