"""The tax report's read model: tax collected and given back, per day, place and rate."""
