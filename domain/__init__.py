"""Velora's domain: aggregates, events and domain errors. Pure Python, no infrastructure."""
