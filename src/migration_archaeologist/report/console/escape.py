"""Rich markup escaping for what the console tables show: text from files, git and databases is
printed as written, never taken as markup."""

from __future__ import annotations

from rich.markup import escape as _escape


def esc(value: object) -> str:
    """Text from files, git and databases (messages, paths, revision IDs) printed inside Rich markup:
    escaped, so ``[tool.alembic]`` or ``[bold]`` in it is shown as written, never taken as markup."""
    return _escape(str(value))
