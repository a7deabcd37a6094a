"""Database URLs as users write them: drivers chosen, passwords never shown, errors in one line.

Every message that can carry a URL goes through :func:`mask`; every connection failure becomes a
:class:`DatabaseUnreachable` whose text has the password replaced.
"""

from __future__ import annotations

import re
import urllib.parse

import sqlalchemy as sa

from migration_archaeologist.errors import EnvironmentProblem

#: drivers we ship as extras, chosen when a URL names only the dialect
DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


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


#: query-string keys whose value is a credential (libpq's password/sslpassword, MySQL drivers'
#: passwd, tokens of cloud drivers); matched case-insensitively, also as a suffix (``ssl_password``)
_SECRET_KEY = r"[\w.-]*(?:password|passwd|pwd|passphrase|secret|token|api_?key|access_?key|credentials?)"
_SECRET_QUERY = re.compile(rf"(?i)((?:[?&;]|%26){_SECRET_KEY}=)[^&;#\s]*")
#: keys whose value may embed a credential (libpq ``options=-c password=...``): masked whole when it does
_EMBEDDING_KEYS = ("options", "dsn", "conninfo", "odbc_connect", "connect_args")
_SECRET_WORD = re.compile(rf"(?i){_SECRET_KEY}\s*[=:]")


_HIDDEN = "MAhiddenMA"  # rendered as is in a query string (*** would be percent-encoded), then replaced


def _secret_key(key: str) -> bool:
    return re.fullmatch(_SECRET_KEY, key, flags=re.IGNORECASE) is not None


def _masked_query(parsed: sa.URL) -> sa.URL:
    """``parsed`` with every credential in its query string replaced by ***."""
    query: dict[str, str | tuple[str, ...]] = {}
    for key, value in parsed.query.items():
        values = value if isinstance(value, tuple) else (value,)
        hidden = _secret_key(key) or (key.lower() in _EMBEDDING_KEYS and any(_SECRET_WORD.search(v) for v in values))
        query[key] = (_HIDDEN,) * len(values) if hidden and isinstance(value, tuple) else _HIDDEN if hidden else value
    return parsed.set(query=query)


def mask(url: str | sa.URL) -> str:
    """The URL with its password replaced by ***, and every credential of its query string
    (``?password=``, ``?passwd=``, ``?sslpassword=``, a password inside ``?options=``), also for
    strings SQLAlchemy cannot parse or parses wrongly (a password with an unescaped ``@`` or ``:``
    spills into the host or port)."""
    try:
        parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
        shown = _masked_query(parsed).render_as_string(hide_password=True).replace(_HIDDEN, "***")
        if not (parsed.host and "@" in parsed.host):
            return _SECRET_QUERY.sub(r"\1***", shown)
    except Exception:  # noqa: BLE001 - masking must never fail
        shown = str(url)
    masked = re.sub(r"(://[^:/@]*:).*@", r"\1***@", shown)  # up to the last @, wherever the password ends
    if masked == shown:  # no user:password@: a "port" that is not a number may be the password
        masked = re.sub(r"(://[^:/@?]*:)(?!\d*(?:[/?]|$))[^/?]*", r"\1***", shown)
    return _SECRET_QUERY.sub(r"\1***", masked)


def secrets(url: str | sa.URL) -> tuple[str, ...]:
    """Every credential a URL carries (its password, credential values of its query string), as
    written and percent-encoded: the strings a driver error quoting the DSN could contain."""
    try:
        parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
    except Exception:  # noqa: BLE001
        return ()
    found: list[str] = [str(parsed.password)] if parsed.password else []
    for key, value in parsed.query.items():
        values = value if isinstance(value, tuple) else (value,)
        if _secret_key(key):
            found += [v for v in values if v]
        elif key.lower() in _EMBEDDING_KEYS:
            for v in values:
                found += [m.group(1) for m in re.finditer(rf"(?i){_SECRET_KEY}\s*[=:]\s*'?([^\s']+)", v)]
    forms = {
        form
        for secret in found
        for form in (secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret, safe=""))
    }
    return tuple(sorted(forms, key=len, reverse=True))  # longest first: an encoded form before its parts


def scrub(message: str, *urls: str | sa.URL) -> str:
    """Remove every credential of ``urls`` from a message (driver errors sometimes quote the DSN)."""
    for url in urls:
        for secret in secrets(url):
            message = message.replace(secret, "***")
    return _SECRET_QUERY.sub(r"\1***", message)


def scrub_encoded(message: str, *urls: str | sa.URL) -> str:
    """:func:`urls.scrub`, plus the percent-encoded forms a URL string carries."""
    message = scrub(message, *urls)
    for url in urls:
        try:
            password = (url if isinstance(url, sa.URL) else sa.make_url(url)).password
        except Exception:  # noqa: BLE001 - scrubbing must never fail
            continue
        if password:
            for form in {urllib.parse.quote(str(password), safe=""), urllib.parse.quote_plus(str(password))}:
                message = message.replace(form, "***")
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
        return sa.create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        extra = "postgres" if parsed.get_backend_name() == "postgresql" else "mysql"
        raise DatabaseUnreachable(
            f"no driver for {mask(parsed)}: {exc.name} is not installed (pip install 'migration-archaeologist[{extra}]')"
        ) from None
