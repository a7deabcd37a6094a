"""Schema drift: does the live database look like what the recovered chain builds?

The proof of a recovery is a comparison: the chain is replayed into a scratch database (the
*expected* schema) and that is compared with the live database (the *actual* schema).  Both
sides are reflected, so both sides went through the same backend and the same reflection code;
every difference left after the normalisations below is a real one.

Alembic's autogenerate already knows how to compare tables, columns, types, nullability,
server defaults, indexes, unique constraints and foreign keys, so we let it: the expected
database is reflected into a ``MetaData`` and ``compare_metadata`` runs against the live
connection.  What autogenerate does not look at (CHECK constraints, PostgreSQL enum labels,
primary-key columns) is compared here from the inspectors of both sides.

The live database is only ever read: it is opened in a read-only transaction (SQLite: a
``mode=ro`` file URI) that is rolled back at the end, and nothing but reflection queries runs
on it -- in particular PostgreSQL's server-side default comparison (a ``SELECT`` of both
default expressions) is replaced by a textual one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from migration_archaeologist.database.stamp import read_only_connection, reason
from migration_archaeologist.database.urls import DatabaseUnreachable, mask, parse, scrub

__all__ = ["Difference", "KINDS", "schema_drift"]

#: Every value :attr:`Difference.kind` can take.
KINDS = (
    "table-missing", "table-extra",
    "column-missing", "column-extra", "column-type", "column-nullable", "column-default",
    "primary-key",
    "index-missing", "index-extra", "unique-missing", "unique-extra",
    "foreign-key-missing", "foreign-key-extra",
    "check-missing", "check-extra", "check-changed",
    "enum-missing", "enum-extra", "enum-values",
)  # fmt: skip


@dataclass(frozen=True)
class Difference:
    """One way the live database differs from the schema the recovered chain builds.

    "missing" means the chain creates something the live database lacks; "extra" means the live
    database has something no revision creates.  ``expected`` describes the replayed (scratch)
    side, ``actual`` the live side; either is ``None`` where that side has nothing.
    """

    kind: str
    table: str | None
    column: str | None
    name: str | None
    expected: str | None
    actual: str | None
    message: str


#: Reflecting a large schema is many round trips: the timeout bounds each single statement, lock wait
#: and (MySQL) wait for a reply, not the whole comparison.
SCHEMA_TIMEOUT = 300.0


def schema_drift(
    live_url: str,
    expected_url: str,
    *,
    schema: str | None = None,
    ignore_tables: Sequence[str] = ("alembic_version",),
) -> tuple[Difference, ...]:
    """Differences between the live schema and the replayed one, sorted by (table, kind, column/name).

    Both databases are only reflected (the live one inside a read-only transaction).  An empty
    result means the recovered chain reproduces the live schema.  ``schema`` selects a
    non-default schema (PostgreSQL) or database (MySQL) on both sides; ``ignore_tables`` are left
    out of every comparison (the version table differs by design).
    """
    live, expected = parse(live_url), parse(expected_url)
    ignored = frozenset(ignore_tables)
    with (
        read_only_connection(expected_url, timeout=SCHEMA_TIMEOUT) as exp_conn,
        read_only_connection(live_url, timeout=SCHEMA_TIMEOUT) as live_conn,
    ):
        try:
            differences = _compare(live_conn, exp_conn, schema, ignored)
        except sa.exc.DBAPIError as exc:
            raise DatabaseUnreachable(
                f"cannot read the schema of {mask(live)} or {mask(expected)}: "
                f"{scrub(reason(exc, live_url, SCHEMA_TIMEOUT), live, expected)}"
            ) from None
    return tuple(sorted(differences, key=lambda d: (d.table or "", d.kind, d.column or d.name or "", d.name or "")))


# --- the comparison ------------------------------------------------------------------------------


def _compare(
    live: sa.Connection, expected: sa.Connection, schema: str | None, ignored: frozenset[str]
) -> list[Difference]:
    live_schema = _schema_key(live, schema)
    exp_schema = _schema_key(expected, schema)
    exp_meta = _reflect(expected, exp_schema, ignored)

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "schema":
            return name == live_schema  # None is the default schema
        return not (type_ == "table" and name in ignored)

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (type_ == "table" and name in ignored)

    context = MigrationContext.configure(
        live,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_schemas": live_schema is not None,
            "include_name": include_name,
            "include_object": include_object,
            # Alembic leaves its version table out by itself; a name no table has hands that
            # decision to ``ignore_tables`` (which leaves alembic_version out by default).
            "version_table": "\x00 no version table",
        },
    )
    # Our textual comparison replaces the dialect's for this context only.  (Passing it as the
    # ``compare_server_default`` callable would be the documented way, but Alembic 1.20 calls
    # that hook before it has set computed and identity columns aside and fails on them with
    # "'Computed' object has no attribute 'arg'"; this hook is only reached for plain defaults.)
    context.impl.compare_server_default = _defaults_differ  # type: ignore[method-assign]
    live_insp, exp_insp = sa.inspect(live), sa.inspect(expected)
    live_tables = set(live_insp.get_table_names(schema=live_schema)) - ignored
    exp_tables = set(exp_insp.get_table_names(schema=exp_schema)) - ignored
    # A missing/extra table is one difference; Alembic also lists its indexes and constraints.
    whole = live_tables ^ exp_tables

    differences = [
        d
        for d in _translate(compare_metadata(context, exp_meta), live.dialect)
        if not (d.table in whole and not d.kind.startswith("table-"))
    ]
    if live.dialect.name in ("mysql", "mariadb"):
        differences = _without_foreign_key_indexes(differences)
    common = sorted(live_tables & exp_tables)
    differences += _primary_keys(live_insp, exp_insp, common, live_schema, exp_schema)
    differences += _checks(live, expected, common, live_schema, exp_schema)
    if live.dialect.name == "postgresql" and expected.dialect.name == "postgresql":
        differences += _enums(live_insp, exp_insp, live_schema, exp_schema)
    return differences


def _without_foreign_key_indexes(differences: list[Difference]) -> list[Difference]:
    """MySQL creates an index, named like the constraint, for a foreign key that has none: when
    the foreign key is missing (or extra), so is that index, and one difference says it all."""
    fks = {(d.table, d.name, d.kind.rsplit("-", 1)[1]): d for d in differences if d.kind.startswith("foreign-key-")}

    def implied(d: Difference) -> bool:
        fk = fks.get((d.table, d.name, d.kind.rsplit("-", 1)[1]))
        text, fk_text = d.expected or d.actual, fk and (fk.expected or fk.actual)
        return bool(d.kind.startswith("index-") and text and fk_text and fk_text.startswith(text + " "))

    return [d for d in differences if not implied(d)]


def _schema_key(conn: sa.Connection, schema: str | None) -> str | None:
    """None for the connection's default schema, as Alembic keys it; else the schema's name."""
    return None if schema is None or schema == conn.dialect.default_schema_name else schema


def _reflect(conn: sa.Connection, schema: str | None, ignored: frozenset[str]) -> sa.MetaData:
    """The expected side as a MetaData, reflected through the same hook Alembic applies to the live side.

    Alembic passes every live column through ``impl.autogen_column_reflect``: on PostgreSQL it
    drops the ``nextval(...)`` default of SERIAL columns, on SQLite it parenthesises expression
    defaults.  Without the same treatment here every SERIAL column would be a false
    "column-default" difference.
    """
    meta = sa.MetaData(schema=schema)
    impl = MigrationContext.configure(conn).impl
    sa.event.listen(meta, "column_reflect", impl._compat_autogen_column_reflect(sa.inspect(conn)))
    meta.reflect(conn, schema=schema, only=lambda name, _meta: name not in ignored)
    return meta


# --- Alembic's diff tuples -----------------------------------------------------------------------


def _translate(diffs: Iterable[Any], dialect: sa.Dialect) -> Iterator[Difference]:
    """Alembic's diff tuples as Differences.

    Alembic speaks in operations that would turn the live database into the metadata, so
    "add_*" means the live database lacks it (missing) and "remove_*" that it has one too many
    (extra).  Comment differences are not reported: the kinds above have no room for them and
    comments do not change how the schema behaves.
    """
    for diff in diffs:
        if isinstance(diff, list):  # column modifications come grouped per column
            yield from (d for item in diff if (d := _column_change(item, dialect)) is not None)
            continue
        op = diff[0]
        if op in ("add_table", "remove_table"):
            table = diff[1]
            missing = op == "add_table"
            yield Difference(
                "table-missing" if missing else "table-extra", table.name, None, None,
                _table_text(table, dialect) if missing else None, None if missing else _table_text(table, dialect),
                f"{table.name}: a revision creates this table but the live database lacks it" if missing
                else f"{table.name}: table exists in the live database but no revision creates it",
            )  # fmt: skip
        elif op in ("add_column", "remove_column"):
            table_name, column = diff[2], diff[3]
            text = _column_text(column, dialect)
            if op == "add_column":
                yield Difference("column-missing", table_name, column.name, None, text, None,
                                 f"{table_name}.{column.name}: a revision creates this column ({text}) but the live database lacks it")  # fmt: skip
            else:
                yield Difference("column-extra", table_name, column.name, None, None, text,
                                 f"{table_name}.{column.name}: column exists in the live database ({text}) but no revision creates it")  # fmt: skip
        elif op in ("add_index", "remove_index"):
            yield _present_or_absent("index", diff[1].table.name, diff[1].name, _index_text(diff[1]), op == "add_index")
        elif op in ("add_constraint", "remove_constraint"):
            constraint = diff[1]
            if isinstance(constraint, sa.UniqueConstraint):
                text = f"UNIQUE ({', '.join(c.name for c in constraint.columns)})"
                yield _present_or_absent("unique", constraint.table.name, constraint.name, text, op == "add_constraint")  # type: ignore[arg-type]  # reflected: a name or None, never _NONE_NAME
            else:  # pragma: no cover - autogenerate only compares unique constraints this way
                raise AssertionError(f"unexpected autogenerate constraint difference: {diff!r}")
        elif op in ("add_fk", "remove_fk"):
            fk = diff[1]
            yield _present_or_absent("foreign-key", fk.table.name, fk.name, _fk_text(fk), op == "add_fk")
        elif op in ("add_table_comment", "remove_table_comment"):
            continue
        else:  # pragma: no cover - a new kind of autogenerate difference must not go unnoticed
            raise AssertionError(f"unexpected autogenerate difference: {diff!r}")


def _present_or_absent(thing: str, table: str, name: str | None, text: str, missing: bool) -> Difference:
    noun = {"unique": "unique constraint", "foreign-key": "foreign key"}.get(thing, thing)
    if thing == "index" and text.startswith("UNIQUE "):
        noun, text = "unique index", text[len("UNIQUE ") :]
    label = f"{noun} {name or '(unnamed)'} {text}"
    if missing:
        return Difference(f"{thing}-missing", table, None, name, text, None,
                          f"{table}: {label} is created by a revision but missing from the live database")  # fmt: skip
    return Difference(f"{thing}-extra", table, None, name, None, text,
                      f"{table}: {label} exists in the live database but no revision creates it")  # fmt: skip


def _column_change(item: tuple[Any, ...], dialect: sa.Dialect) -> Difference | None:
    op, _schema, table, column = item[:4]
    actual, expected = item[5], item[6]
    where = f"{table}.{column}"
    if op == "modify_type":
        exp, act = _type_text(expected, dialect), _type_text(actual, dialect)
        return Difference("column-type", table, column, None, exp, act,
                          f"{where}: type is {act} in the live database, the chain makes it {exp}")  # fmt: skip
    if op == "modify_nullable":
        exp, act = _null_text(expected), _null_text(actual)
        return Difference("column-nullable", table, column, None, exp, act,
                          f"{where}: column is {act} in the live database, the chain makes it {exp}")  # fmt: skip
    if op == "modify_default":
        exp_default, act_default = _default_text(expected), _default_text(actual)
        return Difference("column-default", table, column, None, exp_default, act_default,
                          f"{where}: server default is {act_default or 'none'} in the live database, "
                          f"the chain makes it {exp_default or 'none'}")  # fmt: skip
    if op == "modify_comment":
        return None
    raise AssertionError(f"unexpected autogenerate column difference: {item!r}")  # pragma: no cover


# --- server defaults -----------------------------------------------------------------------------

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_CAST = re.compile(
    r"::\s*(?:\"[^\"]+\"|[a-z_][\w.]*)"  # ::text, ::"MyEnum", ::public.mood
    r"(?:\s+(?:varying|precision|(?:with|without)\s+time\s+zone))?"  # ::character varying
    r"(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])*",  # ::numeric(10,2), ::text[]
    re.IGNORECASE,
)
_PUNCT_SPACE = re.compile(r"\s*([(),=<>!+\-*/\[\]|%])\s*")
#: spellings of the same value; keys and values are already lower-cased and cast-free
_SYNONYMS = {"now()": "current_timestamp", "current_timestamp()": "current_timestamp", "true": "1", "false": "0"}


def _defaults_differ(
    inspector_column: sa.Column[Any],
    metadata_column: sa.Column[Any],
    rendered_metadata_default: str | None,
    rendered_inspector_default: str | None,
) -> bool:
    """Stands in for ``DefaultImpl.compare_server_default``: a textual comparison of normalised defaults.

    Both sides were reflected from the same backend, so equal schemas give equal texts and no
    server-side evaluation is needed.  (Alembic's PostgreSQL comparison would otherwise run
    ``SELECT <live default> = <expected default>`` on the live connection, which is false for
    volatile functions and aborts the read-only transaction when the two types do not compare.)
    """
    return _default_key(rendered_inspector_default) != _default_key(rendered_metadata_default)


def _default_key(text: str | None) -> str | None:
    """A server default reduced to what matters: case, casts, quoting of numbers, parentheses.

    - PostgreSQL appends casts (``'new'::character varying``) to literal defaults;
    - SQLite keeps the default's text as written, Alembic's SQLite hook parenthesises expressions;
    - MariaDB writes ``current_timestamp()`` and quotes some numeric literals (``'0'``);
    - ``now()``/``CURRENT_TIMESTAMP`` and ``true``/``1`` are the same value on every backend.
    """
    if text is None:
        return None
    key = _normalise_sql(text)
    if re.fullmatch(r"'-?\d+(?:\.\d+)?'", key):
        key = key[1:-1]
    if re.fullmatch(r"-?\d+\.\d+", key):
        key = key.rstrip("0").rstrip(".") or "0"
    if key.lower() in ("null", ""):
        return None
    return _SYNONYMS.get(key, key)


def _normalise_sql(text: str, *, compact: bool = True) -> str:
    """SQL without casts, identifier quotes and redundant parentheses; string literals kept exactly.

    ``compact`` (for comparing) also drops spaces around punctuation and lower-cases everything
    outside literals; without it (for showing) only runs of whitespace are collapsed.
    """
    literals: list[str] = []

    def stash(match: re.Match[str]) -> str:
        literals.append(match.group(0))
        return f"\x00{len(literals) - 1}\x00"

    code = _LITERAL.sub(stash, text)  # from here on, quotes and parentheses in literals are out of reach
    code = _CAST.sub("", code)
    code = code.replace('"', "").replace("`", "")
    if compact:
        code = _PUNCT_SPACE.sub(r"\1", code).lower()
    code = re.sub(r"\s+", " ", code).strip()
    while True:  # (status) -> status, ('x') -> 'x', but never f(x) -> fx
        stripped = re.sub(r"(?<![\w\x00])\(\s*([\w.]+|\x00\d+\x00)\s*\)", r"\1", code)
        while _wrapped(stripped):
            stripped = stripped[1:-1].strip()
        if stripped == code:
            break
        code = stripped
    return re.sub(r"\x00(\d+)\x00", lambda m: literals[int(m.group(1))], code)


def _wrapped(text: str) -> bool:
    """True when the whole text is one parenthesised group: ``(a AND b)`` but not ``(a) AND (b)``."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and i < len(text) - 1:
            return False
    return True


# --- what autogenerate does not compare ----------------------------------------------------------


def _primary_keys(live: sa.Inspector, exp: sa.Inspector, tables: Sequence[str], live_schema: str | None,
                  exp_schema: str | None) -> Iterator[Difference]:  # fmt: skip
    """Primary keys by their columns (names differ by backend and are rarely chosen by hand)."""
    for table in tables:
        expected = exp.get_pk_constraint(table, schema=exp_schema)
        actual = live.get_pk_constraint(table, schema=live_schema)
        exp_cols, act_cols = expected.get("constrained_columns") or [], actual.get("constrained_columns") or []
        if exp_cols != act_cols:
            exp_text, act_text = _cols_text(exp_cols), _cols_text(act_cols)
            yield Difference("primary-key", table, None, expected.get("name") or actual.get("name"), exp_text, act_text,
                             f"{table}: primary key is {act_text} in the live database, the chain makes it {exp_text}")  # fmt: skip


def _checks(live: sa.Connection, exp: sa.Connection, tables: Sequence[str], live_schema: str | None,
            exp_schema: str | None) -> Iterator[Difference]:  # fmt: skip
    """CHECK constraints: by name when named, else by their normalised text.

    PostgreSQL deparses CHECKs with casts and extra parentheses, SQLite returns them as
    written, MariaDB with backquoted identifiers: texts are compared after
    :func:`_normalise_sql`.
    """
    live_insp, exp_insp = sa.inspect(live), sa.inspect(exp)
    for table in tables:
        expected = _table_checks(exp, exp_insp, table, exp_schema)
        actual = _table_checks(live, live_insp, table, live_schema)
        exp_named = {c["name"]: c for c in expected if c.get("name")}
        act_named = {c["name"]: c for c in actual if c.get("name")}
        for name in sorted(exp_named.keys() & act_named.keys()):
            exp_text, act_text = exp_named[name]["sqltext"], act_named[name]["sqltext"]
            if _normalise_sql(exp_text) != _normalise_sql(act_text):
                exp_show, act_show = _check_text(exp_text), _check_text(act_text)
                yield Difference("check-changed", table, None, name, exp_show, act_show,
                                 f"{table}: CHECK {name} is {act_show} in the live database, the chain makes it {exp_show}")  # fmt: skip
        exp_unnamed = {_normalise_sql(c["sqltext"]): c for c in expected if not c.get("name")}
        act_unnamed = {_normalise_sql(c["sqltext"]): c for c in actual if not c.get("name")}
        missing = [exp_named[n] for n in sorted(exp_named.keys() - act_named.keys())]
        missing += [exp_unnamed[k] for k in sorted(exp_unnamed.keys() - act_unnamed.keys())]
        extra = [act_named[n] for n in sorted(act_named.keys() - exp_named.keys())]
        extra += [act_unnamed[k] for k in sorted(act_unnamed.keys() - exp_unnamed.keys())]
        for check in missing:
            yield _present_or_absent(
                "check", table, check.get("name"), f"CHECK ({_check_text(check['sqltext'])})", True
            )
        for check in extra:
            yield _present_or_absent(
                "check", table, check.get("name"), f"CHECK ({_check_text(check['sqltext'])})", False
            )


def _table_checks(conn: sa.Connection, insp: sa.Inspector, table: str, schema: str | None) -> list[dict[str, Any]]:
    """The table's CHECK constraints as ``{"name", "sqltext"}``.

    On MariaDB, SQLAlchemy only parses ``CONSTRAINT ... CHECK`` lines of SHOW CREATE TABLE and
    misses column-level CHECKs (``status VARCHAR(20) CHECK (...)``), which MariaDB keeps apart
    and names after their column; information_schema has both.  MariaDB also gives every JSON
    column a ``json_valid(col)`` CHECK of its own: that follows from the column's type (which is
    compared already) and is left out.
    """
    if not getattr(conn.dialect, "is_mariadb", False):
        return [dict(c) for c in insp.get_check_constraints(table, schema=schema)]
    rows = conn.execute(
        sa.text(
            "SELECT constraint_name, check_clause FROM information_schema.check_constraints"
            " WHERE constraint_schema = COALESCE(:schema, DATABASE()) AND table_name = :table"
        ),
        {"schema": schema, "table": table},
    )
    return [{"name": name, "sqltext": text} for name, text in rows
            if not re.fullmatch(r"json_valid\([\w.]+\)", _normalise_sql(text))]  # fmt: skip


def _check_text(sqltext: str) -> str:
    """A CHECK as a person would write it: no casts, no quoting, ``x IN (...)`` for PostgreSQL's
    ``x = ANY (ARRAY[...])``."""
    text = _normalise_sql(sqltext, compact=False)
    return re.sub(r"\s*=\s*ANY\s*\(\s*ARRAY\s*\[(.*)\]\s*\)$", r" IN (\1)", text, flags=re.IGNORECASE)


def _enums(
    live: sa.Inspector, exp: sa.Inspector, live_schema: str | None, exp_schema: str | None
) -> Iterator[Difference]:
    """PostgreSQL enum types by name and ordered labels (autogenerate compares neither)."""
    expected = {e["name"]: e["labels"] for e in exp.get_enums(schema=exp_schema)}  # type: ignore[attr-defined]
    actual = {e["name"]: e["labels"] for e in live.get_enums(schema=live_schema)}  # type: ignore[attr-defined]
    for name in sorted(expected.keys() | actual.keys()):
        exp_text = _labels_text(expected[name]) if name in expected else None
        act_text = _labels_text(actual[name]) if name in actual else None
        if exp_text is None:
            yield Difference("enum-extra", None, None, name, None, act_text,
                             f"enum {name} {act_text} exists in the live database but no revision creates it")  # fmt: skip
        elif act_text is None:
            yield Difference("enum-missing", None, None, name, exp_text, None,
                             f"enum {name} {exp_text} is created by a revision but missing from the live database")  # fmt: skip
        elif exp_text != act_text:
            yield Difference("enum-values", None, None, name, exp_text, act_text,
                             f"enum {name}: labels are {act_text} in the live database, the chain makes them {exp_text}")  # fmt: skip


# --- human-readable texts ------------------------------------------------------------------------


def _type_text(type_: Any, dialect: sa.Dialect) -> str:
    if isinstance(type_, sa.types.NullType):
        return "(no type)"  # SQLite allows columns without one
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:  # noqa: BLE001 - a type the dialect cannot render is still worth naming
        return repr(type_)


def _null_text(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def _default_text(default: Any) -> str | None:
    """A reflected server default without PostgreSQL's casts (``'new'::character varying``)."""
    if default is None:
        return None
    arg = getattr(default, "arg", default)
    return _normalise_sql(str(getattr(arg, "text", arg)), compact=False)


def _column_text(column: sa.Column[Any], dialect: sa.Dialect) -> str:
    text = f"{_type_text(column.type, dialect)} {_null_text(bool(column.nullable))}"
    default = _default_text(column.server_default)
    return f"{text} DEFAULT {default}" if default else text


def _table_text(table: sa.Table, dialect: sa.Dialect) -> str:
    return "(" + ", ".join(f"{c.name} {_type_text(c.type, dialect)}" for c in table.columns) + ")"


def _cols_text(columns: Iterable[str]) -> str:
    cols = list(columns)
    return f"({', '.join(cols)})" if cols else "none"


def _labels_text(labels: Sequence[str]) -> str:
    return "(" + ", ".join("'" + label.replace("'", "''") + "'" for label in labels) + ")"


def _index_text(index: sa.Index) -> str:
    parts = [c.name if isinstance(c, sa.Column) else str(c) for c in index.expressions]
    return f"{'UNIQUE ' if index.unique else ''}({', '.join(parts)})"


def _fk_text(fk: sa.ForeignKeyConstraint) -> str:
    target = fk.elements[0].target_fullname.rsplit(".", 1)[0] if fk.elements else "?"
    text = f"({', '.join(fk.column_keys)}) REFERENCES {target} ({', '.join(e.target_fullname.rsplit('.', 1)[1] for e in fk.elements)})"
    if fk.ondelete:
        text += f" ON DELETE {fk.ondelete}"
    if fk.onupdate:
        text += f" ON UPDATE {fk.onupdate}"
    if fk.deferrable:
        text += " DEFERRABLE"
    if fk.initially:
        text += f" INITIALLY {fk.initially}"
    return text
