"""Schema drift: does the live database look like what the recovered chain builds?

The proof of a recovery is a comparison: the chain is replayed into a scratch database (the
*expected* schema) and that is compared with the live database (the *actual* schema).  Both
sides are reflected, so both sides went through the same backend and the same reflection code;
every difference left after the normalisations of :mod:`sql_text` is a real one.

Alembic's autogenerate already knows how to compare tables, columns, types, nullability,
server defaults, indexes, unique constraints and foreign keys, so we let it: the expected
database is reflected into a ``MetaData`` and ``compare_metadata`` runs against the live
connection.  What autogenerate does not look at (CHECK constraints, PostgreSQL enum labels,
primary-key columns) is compared here from the inspectors of both sides; :mod:`differences`
says what each finding is and how it reads.

The live database is only ever read: it is opened in a read-only transaction (SQLite: a
``mode=ro`` file URI) that is rolled back at the end, and nothing but reflection queries runs
on it -- in particular PostgreSQL's server-side default comparison (a ``SELECT`` of both
default expressions) is replaced by a textual one.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from migration_archaeologist.database.differences import (
    CHAIN,
    Difference,
    Side,
    check_text,
    cols_text,
    labels_text,
    present_or_absent,
    translate,
)
from migration_archaeologist.database.sql_text import default_key, normalise_sql
from migration_archaeologist.database.stamp import read_only_connection, reason
from migration_archaeologist.database.urls import DatabaseUnreachable, mask, parse, scrub

__all__ = ["SCHEMA_TIMEOUT", "schema_drift", "table_checks"]


#: Reflecting a large schema is many round trips: the timeout bounds each single statement, lock wait
#: and (MySQL) wait for a reply, not the whole comparison.
SCHEMA_TIMEOUT = 300.0


def schema_drift(
    live_url: str,
    expected_url: str,
    *,
    schema: str | None = None,
    ignore_tables: Sequence[str] = ("alembic_version",),
    side: Side = CHAIN,
) -> tuple[Difference, ...]:
    """Differences between the live schema and the expected one, sorted by (table, kind, column/name).

    ``side`` names what built the expected database (the replayed chain, or the models'
    ``create_all``), in every message and in ``Difference.against``.

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
            with warnings.catch_warnings():  # CTFd's users <-> teams: "Cannot correctly sort tables" is no finding
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                differences = _compare(live_conn, exp_conn, schema, ignored, side)
        except sa.exc.DBAPIError as exc:
            raise DatabaseUnreachable(
                f"cannot read the schema of {mask(live)} or {mask(expected)}: "
                f"{scrub(reason(exc, live_url, SCHEMA_TIMEOUT), live, expected)}"
            ) from None
    return tuple(sorted(differences, key=lambda d: (d.table or "", d.kind, d.column or d.name or "", d.name or "")))


# --- the comparison ------------------------------------------------------------------------------


def _compare(
    live: sa.Connection, expected: sa.Connection, schema: str | None, ignored: frozenset[str], side: Side
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
        for d in translate(compare_metadata(context, exp_meta), live.dialect, side)
        if not (d.table in whole and not d.kind.startswith("table-"))
    ]
    if live.dialect.name in ("mysql", "mariadb"):
        differences = _without_renamed_unique_indexes(_without_foreign_key_indexes(differences))
    common = sorted(live_tables & exp_tables)
    differences += _primary_keys(live_insp, exp_insp, common, live_schema, exp_schema, side)
    differences += _checks(live, expected, common, live_schema, exp_schema, side)
    if live.dialect.name == "postgresql" and expected.dialect.name == "postgresql":
        differences += _enums(live_insp, exp_insp, live_schema, exp_schema, side)
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


def _without_renamed_unique_indexes(differences: list[Difference]) -> list[Difference]:
    """MySQL names an unnamed unique constraint after its first column (``challenge_id``, then
    ``challenge_id_2``), in the order the tables' DDL made them: the same constraints made in another
    order (CTFd's models' ``create_all`` and its migrations) swap names. Unique indexes with such names,
    missing and extra on one table over the same column lists, are the same constraints."""
    auto = re.compile(r"\((\w+)[,)]")

    def auto_named(d: Difference) -> bool:
        first = auto.match(d.expected or d.actual or "")
        return bool("unique index" in d.message and first and re.fullmatch(rf"{first[1]}(_\d+)?", d.name or ""))

    def columns(kind: str, table: str | None) -> list[str]:
        return sorted(d.expected or d.actual or "" for d in differences if d.kind == kind and d.table == table
                      and auto_named(d))  # fmt: skip

    swapped = {d.table for d in differences if d.kind == "index-missing" and auto_named(d)
               and columns("index-missing", d.table) == columns("index-extra", d.table)}  # fmt: skip
    return [d for d in differences if not (d.table in swapped and d.kind.startswith("index-") and auto_named(d))]


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
    if conn.dialect.name in ("mysql", "mariadb"):
        _drop_implicit_foreign_key_indexes(meta)
    return meta


def _drop_implicit_foreign_key_indexes(meta: sa.MetaData) -> None:
    """The index MySQL makes by itself for a foreign key, named after its column or its constraint:
    Alembic leaves it out of the live side (``MySQLImpl.correct_for_autogen_constraints``), so the
    expected side, reflected too, must leave it out the same way, or a foreign key created inline
    (``create_all``) and one added later (a migration's ``create_foreign_key``) would differ by it."""
    for table in meta.tables.values():
        for index in list(table.indexes):
            cols = list(index.columns)
            implied = any(
                index.name == col.name or any(fk.name == index.name for fk in col.foreign_keys) for col in cols
            )
            if not index.unique and implied and any(col.foreign_keys for col in cols):
                table.indexes.discard(index)


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
    return default_key(rendered_inspector_default) != default_key(rendered_metadata_default)


# --- what autogenerate does not compare ----------------------------------------------------------


def _primary_keys(live: sa.Inspector, exp: sa.Inspector, tables: Sequence[str], live_schema: str | None,
                  exp_schema: str | None, side: Side) -> Iterator[Difference]:  # fmt: skip
    """Primary keys by their columns (names differ by backend and are rarely chosen by hand)."""
    for table in tables:
        expected = exp.get_pk_constraint(table, schema=exp_schema)
        actual = live.get_pk_constraint(table, schema=live_schema)
        exp_cols, act_cols = expected.get("constrained_columns") or [], actual.get("constrained_columns") or []
        if exp_cols != act_cols:
            exp_text, act_text = cols_text(exp_cols), cols_text(act_cols)
            yield Difference("primary-key", table, None, expected.get("name") or actual.get("name"), exp_text, act_text,
                             f"{table}: primary key is {act_text} in the live database, {side.makes} it {exp_text}", side.name)  # fmt: skip


def _checks(live: sa.Connection, exp: sa.Connection, tables: Sequence[str], live_schema: str | None,
            exp_schema: str | None, side: Side) -> Iterator[Difference]:  # fmt: skip
    """CHECK constraints: by name when named, else by their normalised text.

    PostgreSQL deparses CHECKs with casts and extra parentheses, SQLite returns them as
    written, MariaDB with backquoted identifiers: texts are compared after
    :func:`normalise_sql`.
    """
    live_insp, exp_insp = sa.inspect(live), sa.inspect(exp)
    for table in tables:
        expected = table_checks(exp, exp_insp, table, exp_schema)
        actual = table_checks(live, live_insp, table, live_schema)
        exp_named = {c["name"]: c for c in expected if c.get("name")}
        act_named = {c["name"]: c for c in actual if c.get("name")}
        for name in sorted(exp_named.keys() & act_named.keys()):
            exp_text, act_text = exp_named[name]["sqltext"], act_named[name]["sqltext"]
            if normalise_sql(exp_text) != normalise_sql(act_text):
                exp_show, act_show = check_text(exp_text), check_text(act_text)
                yield Difference("check-changed", table, None, name, exp_show, act_show,
                                 f"{table}: CHECK {name} is {act_show} in the live database, {side.makes} it {exp_show}", side.name)  # fmt: skip
        exp_unnamed = {normalise_sql(c["sqltext"]): c for c in expected if not c.get("name")}
        act_unnamed = {normalise_sql(c["sqltext"]): c for c in actual if not c.get("name")}
        missing = [exp_named[n] for n in sorted(exp_named.keys() - act_named.keys())]
        missing += [exp_unnamed[k] for k in sorted(exp_unnamed.keys() - act_unnamed.keys())]
        extra = [act_named[n] for n in sorted(act_named.keys() - exp_named.keys())]
        extra += [act_unnamed[k] for k in sorted(act_unnamed.keys() - exp_unnamed.keys())]
        for check in missing:
            yield present_or_absent(
                "check", table, check.get("name"), f"CHECK ({check_text(check['sqltext'])})", True, side
            )
        for check in extra:
            yield present_or_absent(
                "check", table, check.get("name"), f"CHECK ({check_text(check['sqltext'])})", False, side
            )


def table_checks(conn: sa.Connection, insp: sa.Inspector, table: str, schema: str | None) -> list[dict[str, Any]]:
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
            if not re.fullmatch(r"json_valid\([\w.]+\)", normalise_sql(text))]  # fmt: skip


def _enums(
    live: sa.Inspector, exp: sa.Inspector, live_schema: str | None, exp_schema: str | None, side: Side
) -> Iterator[Difference]:
    """PostgreSQL enum types by name and ordered labels (autogenerate compares neither)."""
    expected = {e["name"]: e["labels"] for e in exp.get_enums(schema=exp_schema)}  # type: ignore[attr-defined]
    actual = {e["name"]: e["labels"] for e in live.get_enums(schema=live_schema)}  # type: ignore[attr-defined]
    for name in sorted(expected.keys() | actual.keys()):
        exp_text = labels_text(expected[name]) if name in expected else None
        act_text = labels_text(actual[name]) if name in actual else None
        if exp_text is None:
            yield Difference("enum-extra", None, None, name, None, act_text,
                             f"enum {name} {act_text} exists in the live database but {side.nothing}", side.name)  # fmt: skip
        elif act_text is None:
            yield Difference("enum-missing", None, None, name, exp_text, None,
                             f"enum {name} {exp_text} {side.created_by} but missing from the live database", side.name)  # fmt: skip
        elif exp_text != act_text:
            yield Difference("enum-values", None, None, name, exp_text, act_text,
                             f"enum {name}: labels are {act_text} in the live database, {side.makes} them {exp_text}", side.name)  # fmt: skip
