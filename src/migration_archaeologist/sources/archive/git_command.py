"""One git command run for a bundle or a work tree, its failure returned as a line instead of raised."""

from __future__ import annotations

import subprocess

from migration_archaeologist.sources.git.repository import first_line, git_env


def run_git(cwd: str, *args: str, input: bytes | None = None) -> bytes | str:
    """stdout, or the error line as a str (bundles are bad input: failures are issues, not exceptions)."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=git_env(), check=False)
    except OSError as exc:
        return f"git not runnable: {exc}"
    if proc.returncode != 0:
        return first_line(proc.stderr)
    return proc.stdout
