"""GitHub Actions workflow commands (``::error file=…,line=…,title=…::message``). Render only.

The runner turns each line into an annotation on the pull request's diff; escaping follows
``@actions/core`` exactly, so a message with a newline, ``%``, ``:`` or ``,`` arrives intact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO
from collections.abc import Sequence

from migration_archaeologist.report.markup import visible

if TYPE_CHECKING:
    from migration_archaeologist.chain.check import Annotation, Verdict
    from migration_archaeologist.chain.scan_result import ScanResult


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF encoded as the runner expects, any other control
    or bidi character from a message or a path replaced (the log is a terminal too)."""
    return visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(annotation: Annotation) -> str:
    props = []
    if annotation.file:
        props.append(f"file={escape_property(annotation.file)}")
        if annotation.line:
            props.append(f"line={annotation.line}")
    props.append(f"title={escape_property(annotation.title)}")
    return f"::{annotation.level} {','.join(props)}::{escape_data(annotation.message)}"


def render_check(
    out: TextIO, result: ScanResult, verdict: Verdict, annotations: Sequence[Annotation], environment: str | None = None
) -> None:
    """One workflow command per annotation, then one plain summary line for the log (named after its
    environment when a repository has several)."""
    for annotation in annotations:
        out.write(command(annotation) + "\n")
    line = summary(result, verdict)
    out.write((line.replace("check ", f"check [{environment}] ", 1) if environment else line) + "\n")


def summary(result: ScanResult, verdict: Verdict) -> str:
    heads = ", ".join(result.gate_chain.heads) or "none"
    failing = [p.kind for p in verdict.failing]
    ignored = [p.kind for p in verdict.ignored if p.kind in verdict.ignore]
    warned = [p.kind for p in verdict.ignored if p.kind not in verdict.ignore]
    if verdict.missing:
        (ignored if verdict.missing_ignored else failing).extend(["missing"] * len(verdict.missing))
    ignored_note = f"; ignored: {_counted(ignored)}" if ignored else ""
    ignored_note += f"; warnings: {_counted(warned)}" if warned else ""
    if verdict.passed:
        return f"migration-archaeologist check passed: {len(result.gate_chain.order)} revisions, head {heads}{ignored_note}"
    return f"migration-archaeologist check failed: {_counted(failing)}{ignored_note}"


def _counted(kinds: list[str]) -> str:
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(kind if n == 1 else f"{kind} ({n})" for kind, n in counts.items())
