"""Database URLs as users write them: drivers chosen, passwords never shown, errors in one line.

Every message that can carry a URL goes through :func:`mask`; every connection failure becomes a
:class:`DatabaseUnreachable` whose text has the password replaced.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from migration_archaeologist.errors import EnvironmentProblem

#: drivers we ship as extras, chosen when a URL names only the dialect
DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql",
                   "mariadb": "mariadb+pymysql"}


_ESCAPE_HINT = "write @ : / in a password as %40 %3A %2F"


class DatabaseUnreachable(EnvironmentProblem):
    """Host down, wrong password, database missing, driver not installed: exit 3, password masked."""


def parse(url: str) -> sa.URL:
    """A URL with our default driver filled in; raises DatabaseUnreachable for nonsense."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise DatabaseUnreachable(f"not a database URL: {mask(url)}") from None
    except ValueError:  # a "port" that is not a number: often the rest of a password with an unescaped @ or :
        raise DatabaseUnreachable(f"not a database URL: {mask(url)} ({_ESCAPE_HINT})") from None
    if parsed.host and "@" in parsed.host:  # the password had an unescaped @: the host holds the rest of it
        raise DatabaseUnreachable(f"not a database URL: {mask(url)} ({_ESCAPE_HINT})")
    driver = DEFAULT_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def mask(url: str | sa.URL) -> str:
    """The URL with its password replaced by ***, also for strings SQLAlchemy cannot parse or
    parses wrongly (a password with an unescaped ``@`` or ``:`` spills into the host or port)."""
    try:
        parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
        shown = parsed.render_as_string(hide_password=True)
        if not (parsed.host and "@" in parsed.host):
            return shown
    except Exception:  # noqa: BLE001 - masking must never fail
        shown = str(url)
    masked = re.sub(r"(://[^:/@]*:).*@", r"\1***@", shown)  # up to the last @, wherever the password ends
    if masked == shown:  # no user:password@: a "port" that is not a number may be the password
        masked = re.sub(r"(://[^:/@?]*:)(?!\d*(?:[/?]|$))[^/?]*", r"\1***", shown)
    return masked


def scrub(message: str, *urls: str | sa.URL) -> str:
    """Remove every password of ``urls`` from a message (driver errors sometimes quote the DSN)."""
    for url in urls:
        try:
            password = (url if isinstance(url, sa.URL) else sa.make_url(url)).password
        except Exception:  # noqa: BLE001
            password = None
        if password:
            message = message.replace(str(password), "***")
    return message


def one_line(exc: BaseException) -> str:
    """The first meaningful line of a driver error, without SQLAlchemy's background links."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("(Background")]
    return lines[0] if lines else type(exc).__name__


def engine(url: str | sa.URL, **kwargs: object) -> sa.Engine:
    """An engine for ``url``; a missing driver is a one-line environment error naming the extra to install."""
    parsed = parse(url) if isinstance(url, str) else url
    try:
        return sa.create_engine(parsed, **kwargs)  # type: ignore[arg-type]
    except ModuleNotFoundError as exc:
        extra = "postgres" if parsed.get_backend_name() == "postgresql" else "mysql"
        raise DatabaseUnreachable(
            f"no driver for {mask(parsed)}: {exc.name} is not installed (pip install 'migration-archaeologist[{extra}]')"
        ) from None
