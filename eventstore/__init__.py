"""The write side's storage: eventsourcing applications, recorders, DB-level immutability."""
