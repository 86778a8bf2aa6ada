"""Alembic migrations of the read-model database (MySQL/MariaDB or SQLite)."""
