"""A tiny driver for real git repositories with fixed dates, used by the tests."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


def revision_source(
    rev: str,
    down: str | tuple[str, ...] | None,
    message: str = "a change",
    *,
    branch_labels: str | tuple[str, ...] | None = None,
    depends_on: str | tuple[str, ...] | None = None,
    revises_header: str | None = None,
    body: str = "    op.add_column('t', sa.Column('c', sa.Integer()))",
    create_date: str | None = "2025-10-15 10:00:00.000000",
) -> str:
    """A revision file as Alembic 1.13's template writes it; ``create_date=None`` leaves the
    "Create Date:" line out (a hand-written file, another template)."""
    if revises_header is None:
        revises_header = ", ".join(down) if isinstance(down, tuple) else (down or "")
    dated = f"Create Date: {create_date}\n" if create_date is not None else ""
    return f'''"""{message}

Revision ID: {rev}
Revises: {revises_header}
{dated}
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = {rev!r}
down_revision: Union[str, None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = {branch_labels!r}
depends_on: Union[str, Sequence[str], None] = {depends_on!r}


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''


@dataclass
class GitRepo:
    path: Path
    clock: int = 1_760_500_000  # 2025-10-15
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def init(cls, path: Path, *args: str) -> "GitRepo":
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", "-b", "main", *args, str(path)], check=True)
        return cls(path)

    def git(self, *args: str, check: bool = True, input: str | None = None) -> str:
        self.clock += 3600
        stamp = f"@{self.clock} +0000"
        env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, **self.env}
        proc = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True, env=env, input=input
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout.strip()

    def write(self, rel: str, text: str | bytes) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)
        return target

    def commit(self, message: str, files: dict[str, str | bytes] | None = None, remove: list[str] = ()) -> str:  # type: ignore[assignment]
        for rel, text in (files or {}).items():
            self.write(rel, text)
            self.git("add", rel)
        for rel in remove:
            self.git("rm", "-q", rel)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def blob_of(self, rel_or_text: str | bytes) -> str:
        data = rel_or_text if isinstance(rel_or_text, bytes) else rel_or_text.encode()
        return subprocess.run(
            ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
        ).stdout.decode().strip()


def environment_files(script: str = "alembic") -> dict[str, str]:
    """``env.py`` and ``script.py.mako`` of the script folder ``script``, as ``alembic init`` writes
    them: a configuration naming a script folder without them is an environment Alembic cannot run,
    and ``check`` fails on it (environment-missing)."""
    import alembic

    templates = Path(alembic.__file__).parent / "templates" / "generic"
    return {f"{script}/{name}": (templates / name).read_text() for name in ("env.py", "script.py.mako")}
