"""What a schema comparison finds: the kinds of :class:`Difference`, and how each one reads.

Alembic's autogenerate reports differences as diff tuples, in operations that would turn the live
database into the expected schema; :func:`translate` turns them into Differences, each with a
text for either side and a one-line message.  The texts name types, defaults, constraints and
keys the way a person would write them, not the way the backend reflects them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from migration_archaeologist.database.sql_text import normalise_sql

__all__ = [
    "CHAIN",
    "MODELS",
    "Difference",
    "KINDS",
    "Side",
    "check_text",
    "cols_text",
    "labels_text",
    "present_or_absent",
    "translate",
]

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
class Side:
    """What the expected schema came from, and how messages name it: the replayed chain, or the
    application's models (``verify --models``), so that a finding says which one disagrees."""

    name: str  # "chain" or "models": Difference.against
    creates: str  # "a revision creates" this table / column
    created_by: str  # an index ... "is created by a revision" but missing from the live database
    nothing: str  # exists in the live database but "no revision creates it"
    makes: str  # "the chain makes" it VARCHAR(20)


CHAIN = Side("chain", "a revision creates", "is created by a revision", "no revision creates it", "the chain makes")
MODELS = Side("models", "the models define", "is in the models", "the models lack it", "the models make")


@dataclass(frozen=True)
class Difference:
    """One way the live database differs from the expected schema: the one the recovered chain
    builds (``against`` "chain") or the one the application's models define ("models").

    "missing" means the expected side has something the live database lacks; "extra" means the
    live database has something the expected side does not.  ``expected`` describes the expected
    (scratch) side, ``actual`` the live side; either is ``None`` where that side has nothing.
    """

    kind: str
    table: str | None
    column: str | None
    name: str | None
    expected: str | None
    actual: str | None
    message: str
    against: str = "chain"


# --- Alembic's diff tuples -----------------------------------------------------------------------


def translate(diffs: Iterable[Any], dialect: sa.Dialect, side: Side = CHAIN) -> Iterator[Difference]:
    """Alembic's diff tuples as Differences.

    Alembic speaks in operations that would turn the live database into the metadata, so
    "add_*" means the live database lacks it (missing) and "remove_*" that it has one too many
    (extra).  Comment differences are not reported: the kinds above have no room for them and
    comments do not change how the schema behaves.
    """
    for diff in diffs:
        if isinstance(diff, list):  # column modifications come grouped per column
            yield from (d for item in diff if (d := _column_change(item, dialect, side)) is not None)
            continue
        op = diff[0]
        if op in ("add_table", "remove_table"):
            table = diff[1]
            missing = op == "add_table"
            yield Difference(
                "table-missing" if missing else "table-extra", table.name, None, None,
                _table_text(table, dialect) if missing else None, None if missing else _table_text(table, dialect),
                f"{table.name}: {side.creates} this table but the live database lacks it" if missing
                else f"{table.name}: table exists in the live database but {side.nothing}", side.name,
            )  # fmt: skip
        elif op in ("add_column", "remove_column"):
            table_name, column = diff[2], diff[3]
            text = _column_text(column, dialect)
            if op == "add_column":
                message = (
                    f"{table_name}.{column.name}: {side.creates} this column ({text}) but the live database lacks it"
                )
                yield Difference("column-missing", table_name, column.name, None, text, None, message, side.name)
            else:
                message = f"{table_name}.{column.name}: column exists in the live database ({text}) but {side.nothing}"
                yield Difference("column-extra", table_name, column.name, None, None, text, message, side.name)
        elif op in ("add_index", "remove_index"):
            yield present_or_absent(
                "index", diff[1].table.name, diff[1].name, _index_text(diff[1]), op == "add_index", side
            )
        elif op in ("add_constraint", "remove_constraint"):
            constraint = diff[1]
            if isinstance(constraint, sa.UniqueConstraint):
                text = f"UNIQUE ({', '.join(c.name for c in constraint.columns)})"
                name = constraint.name  # reflected: a name or None, never _NONE_NAME
                yield present_or_absent("unique", constraint.table.name, name, text, op == "add_constraint", side)  # type: ignore[arg-type]
            else:  # pragma: no cover - autogenerate only compares unique constraints this way
                raise AssertionError(f"unexpected autogenerate constraint difference: {diff!r}")
        elif op in ("add_fk", "remove_fk"):
            fk = diff[1]
            yield present_or_absent("foreign-key", fk.table.name, fk.name, _fk_text(fk), op == "add_fk", side)
        elif op in ("add_table_comment", "remove_table_comment"):
            continue
        else:  # pragma: no cover - a new kind of autogenerate difference must not go unnoticed
            raise AssertionError(f"unexpected autogenerate difference: {diff!r}")


def present_or_absent(
    thing: str, table: str, name: str | None, text: str, missing: bool, side: Side = CHAIN
) -> Difference:
    noun = {"unique": "unique constraint", "foreign-key": "foreign key"}.get(thing, thing)
    if thing == "index" and text.startswith("UNIQUE "):
        noun, text = "unique index", text[len("UNIQUE ") :]
    label = f"{noun} {name or '(unnamed)'} {text}"
    if missing:
        return Difference(f"{thing}-missing", table, None, name, text, None,
                          f"{table}: {label} {side.created_by} but missing from the live database", side.name)  # fmt: skip
    return Difference(f"{thing}-extra", table, None, name, None, text,
                      f"{table}: {label} exists in the live database but {side.nothing}", side.name)  # fmt: skip


def _column_change(item: tuple[Any, ...], dialect: sa.Dialect, side: Side) -> Difference | None:
    op, _schema, table, column = item[:4]
    actual, expected = item[5], item[6]
    where = f"{table}.{column}"
    if op == "modify_type":
        exp, act = _type_text(expected, dialect), _type_text(actual, dialect)
        return Difference("column-type", table, column, None, exp, act,
                          f"{where}: type is {act} in the live database, {side.makes} it {exp}", side.name)  # fmt: skip
    if op == "modify_nullable":
        exp, act = _null_text(expected), _null_text(actual)
        return Difference("column-nullable", table, column, None, exp, act,
                          f"{where}: column is {act} in the live database, {side.makes} it {exp}", side.name)  # fmt: skip
    if op == "modify_default":
        exp_default, act_default = _default_text(expected), _default_text(actual)
        return Difference("column-default", table, column, None, exp_default, act_default,
                          f"{where}: server default is {act_default or 'none'} in the live database, "
                          f"{side.makes} it {exp_default or 'none'}", side.name)  # fmt: skip
    if op == "modify_comment":
        return None
    raise AssertionError(f"unexpected autogenerate column difference: {item!r}")  # pragma: no cover


# --- human-readable texts ------------------------------------------------------------------------


def check_text(sqltext: str) -> str:
    """A CHECK as a person would write it: no casts, no quoting, ``x IN (...)`` for PostgreSQL's
    ``x = ANY (ARRAY[...])``."""
    text = normalise_sql(sqltext, compact=False)
    return re.sub(r"\s*=\s*ANY\s*\(\s*ARRAY\s*\[(.*)\]\s*\)$", r" IN (\1)", text, flags=re.IGNORECASE)


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
    return normalise_sql(str(getattr(arg, "text", arg)), compact=False)


def _column_text(column: sa.Column[Any], dialect: sa.Dialect) -> str:
    text = f"{_type_text(column.type, dialect)} {_null_text(bool(column.nullable))}"
    default = _default_text(column.server_default)
    return f"{text} DEFAULT {default}" if default else text


def _table_text(table: sa.Table, dialect: sa.Dialect) -> str:
    return "(" + ", ".join(f"{c.name} {_type_text(c.type, dialect)}" for c in table.columns) + ")"


def cols_text(columns: Iterable[str]) -> str:
    cols = list(columns)
    return f"({', '.join(cols)})" if cols else "none"


def labels_text(labels: Sequence[str]) -> str:
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
