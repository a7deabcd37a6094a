"""The scanned project's Alembic setup: its environments, which one to judge, its defaults, and Alembic's own view."""
