"""``timeline``: every revision by date, what it did, where it went; the rendering and writing ``graph`` shares."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from migration_archaeologist.errors import EXIT_OK
from migration_archaeologist.cli.group import app
from migration_archaeologist.cli import options
from migration_archaeologist.cli.printing import escape, stderr_console
from migration_archaeologist.cli.scanning import scan_with_options

if TYPE_CHECKING:
    from migration_archaeologist.chain.timeline import Timeline


class TimelineFormat(str, Enum):
    markdown = "markdown"
    json = "json"
    html = "html"


@app.command()
def timeline(
    repo: Path = options.RepoArg,
    fmt: TimelineFormat = typer.Option(TimelineFormat.markdown, "--format", "-f", help="markdown, json or html."),
    db: str | None = options.ViewDbOpt,
    output: Path | None = options.OutputOpt,
    title: str | None = typer.Option(
        None, "--title", help="Project name for headings. Default: the repository folder's name."
    ),
    versions: list[Path] | None = options.VersionsOpt,
    version_table: str = options.VersionTableOpt,
    version_table_schema: str | None = options.VersionSchemaOpt,
    pick: list[str] | None = options.PickOpt,
    thorough: bool = options.ThoroughOpt,
    cache: bool | None = options.CacheOpt,
    archive: list[Path] | None = options.ArchiveOpt,
) -> None:
    """The schema evolution timeline: every revision by date, what it did, where it went, how to get it back.

    html is one self-contained file (works offline): the chain drawn, the timeline,
    problems and evidence. Exit 0 once written; use check to fail on problems.

    \b
    Example: migration-archaeologist timeline --db sqlite:///app.db -o docs/schema-evolution-timeline.md
    """
    story = read_timeline(
        repo, versions, pick, thorough, db, version_table, version_table_schema, title, cache, archives=archive
    )
    emit(render(fmt.value, story, "timeline_document"), output)


def read_timeline(
    repo: Path,
    versions: list[Path] | None,
    pick: list[str] | None,
    thorough: bool,
    db: str | None,
    version_table: str,
    version_table_schema: str | None,
    title: str | None,
    cache: bool | None = None,
    operations: bool = True,
    archives: list[Path] | None = None,
) -> Timeline:
    from migration_archaeologist.chain.story import build_timeline

    result = scan_with_options(repo, versions, pick, False, thorough, archives, cache=cache)
    stamp = None
    shown_url = None
    if db:
        from migration_archaeologist.database.stamp import NoVersionTable, Stamp, read_stamp
        from migration_archaeologist.database.urls import mask, parse

        shown_url = mask(db)

        try:
            stamp = read_stamp(db, version_table=version_table, version_table_schema=version_table_schema)
        except NoVersionTable as exc:
            stderr_console().print(
                f"[yellow]warning:[/yellow] {escape(exc.message)}; nothing is marked applied", soft_wrap=True
            )
            stamp = Stamp(mask(parse(db)), version_table, version_table_schema, ())
        from migration_archaeologist.actions.verify import BrokenStamp, refuse_broken_stamp

        try:
            refuse_broken_stamp(result, stamp)
        except BrokenStamp as exc:  # a view still draws what the rows say; verify and check fail on it
            stderr_console().print(f"[yellow]warning:[/yellow] {escape(exc.message)}", soft_wrap=True)
    return build_timeline(
        result,
        stamp,
        title=title,
        operations=operations,
        repo_arg=str(repo),
        database=shown_url,
        archives=tuple(str(a) for a in archives or ()),
    )


#: format -> (report module, function); each module is imported only when its format is asked for
_RENDERERS = {
    "markdown": ("markdown", "render_markdown"),
    "html": ("html", "render_html"),
    "mermaid": ("mermaid", "render_mermaid"),
    "dot": ("dot", "render_dot"),
}


def render(fmt: str, story, json_document: str) -> str:  # type: ignore[no-untyped-def]
    import importlib

    from migration_archaeologist.report.markup import json_visible, visible

    if fmt == "json":
        from migration_archaeologist.report import json_timeline as json_report

        return json_visible(json.dumps(getattr(json_report, json_document)(story), indent=2, ensure_ascii=False)) + "\n"
    module, function = _RENDERERS[fmt]
    # repository text inside the report (messages, paths, subjects): no control or bidi character
    return visible(getattr(importlib.import_module(f"migration_archaeologist.report.{module}"), function)(story))


def emit(text: str, output: Path | None) -> NoReturn:
    """Standard output, or a file replaced atomically so a reader never sees half a report."""
    if output is None:
        sys.stdout.write(text)
        raise typer.Exit(EXIT_OK)
    from migration_archaeologist.report.output import write_report

    write_report(output, text.encode("utf-8"))
    stderr_console().print(f"wrote {escape(str(output))} ({len(text.encode('utf-8')):,} bytes)")
    raise typer.Exit(EXIT_OK)
