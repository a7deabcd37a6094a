"""Recover lost Alembic revision files from git history."""

__version__ = "0.1.0"
