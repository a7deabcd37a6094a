"""``graph``: the revision chain as Mermaid, DOT or JSON, drawn from the timeline."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from migration_archaeologist.cli.group import app
from migration_archaeologist.cli import options
from migration_archaeologist.cli.timeline import emit, read_timeline, render


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


@app.command()
def graph(
    repo: Path = options.RepoArg,
    fmt: GraphFormat = typer.Option(GraphFormat.mermaid, "--format", "-f", help="mermaid, dot or json."),
    db: str | None = options.ViewDbOpt,
    output: Path | None = options.OutputOpt,
    title: str | None = typer.Option(None, "--title", help="Project name for the picture's label."),
    versions: list[Path] | None = options.VersionsOpt,
    version_table: str = options.VersionTableOpt,
    version_table_schema: str | None = options.VersionSchemaOpt,
    pick: list[str] | None = options.PickOpt,
    thorough: bool = options.ThoroughOpt,
    cache: bool | None = options.CacheOpt,
    archive: list[Path] | None = options.ArchiveOpt,
) -> None:
    """The revision chain for docs or Graphviz: Mermaid (paste into Markdown), DOT, or JSON nodes and edges.

    \b
    Example: migration-archaeologist graph --format dot | dot -Tsvg > chain.svg
    """
    story = read_timeline(
        repo,
        versions,
        pick,
        thorough,
        db,
        version_table,
        version_table_schema,
        title,
        cache,
        operations=False,
        archives=archive,
    )
    emit(render(fmt.value, story, "graph_document"), output)
