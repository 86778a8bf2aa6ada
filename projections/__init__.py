"""The read side: projectors fold the event log into read models, and queries read only those."""
