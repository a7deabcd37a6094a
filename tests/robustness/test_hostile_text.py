"""Issue 19, item 6: text from the repository is shown as written, never obeyed.

Revision messages, commit subjects, file and folder names come from anyone's files. A message
``[/]`` made the console's markup parser fail (exit 4), ``[link=…]`` became a live terminal
hyperlink, and ESC/BEL/RLO characters reached the terminal and every report raw: a colour change,
a bell, a file name shown backwards. Each renderer is run as a user runs it, on a repository in a
folder named ``proj[/]x`` whose revisions carry such a message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitfixture import GitRepo, environment_files, revision_source

V = "alembic/versions"
R0, R1, LOST = "aaaaaaaaaaa0", "bbbbbbbbbbb1", "ccccccccccc2"
MESSAGE = "x[/]y [link=https://evil]click[/link] \x1b[31mred\x07 \u202egnp.exe"
#: characters that must never reach any output: ESC, BEL, the bidi overrides and isolates, C1
FORBIDDEN = ("\x1b", "\x07", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
             "\x9b", "\x7f")


def _repo(tmp_path: Path) -> GitRepo:
    """In ``proj[/]x``: R0 and R1 present, LOST deleted (in history), each with the hostile message,
    committed with it as the subject."""
    repo = GitRepo.init(tmp_path / "proj[/]x")
    repo.commit(MESSAGE, {
        f"{V}/{R0}_first.py": revision_source(R0, None, MESSAGE),
        f"{V}/{R1}_second.py": revision_source(R1, R0, MESSAGE),
        f"{V}/{LOST}_lost.py": revision_source(LOST, R1, MESSAGE + "\x9b2J\x7f"),
        "alembic.ini": "[alembic]\nscript_location = alembic\n",
        **environment_files(),
    })
    repo.commit(f"cleanup {MESSAGE}", remove=[f"{V}/{LOST}_lost.py"])
    return repo


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    env["COLUMNS"] = "300"
    return subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=cwd)


def _clean(label: str, text: str) -> None:
    found = [repr(c) for c in FORBIDDEN if c in text]
    assert not found, f"{found} in {label}:\n{text[:3000]!r}"
    assert "MarkupError" not in text and "Traceback" not in text, f"{label}:\n{text}"


@pytest.mark.parametrize("args, code, shown", [
    (("scan",), 0, True),
    (("scan", "--json"), 0, False),
    (("check",), 0, False),
    (("check", "--format", "github"), 0, False),
    (("check", "--json"), 0, False),
    (("restore", LOST, "{repo}", "--allow-new-head"), 0, False),
    (("timeline", "-f", "markdown"), 0, False),
    (("timeline", "-f", "html"), 0, False),
    (("timeline", "-f", "json"), 0, False),
    (("graph", "-f", "mermaid"), 0, False),
    (("graph", "-f", "dot"), 0, False),
    (("graph", "-f", "json"), 0, False),
])
def test_every_renderer_shows_hostile_text_as_text(args: tuple[str, ...], code: int, shown: bool, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    given = [str(repo.path) if a == "{repo}" else a for a in args]
    proc = _run(*given) if "{repo}" in args else _run(args[0], str(repo.path), *args[1:])
    label = " ".join(args)
    assert proc.returncode == code, (label, proc.returncode, proc.stdout, proc.stderr)
    _clean(f"stdout of {label}", proc.stdout)
    _clean(f"stderr of {label}", proc.stderr)
    if shown:  # the console shows the brackets as written: not markup, not a hyperlink
        assert "x[/]y [link=https://evil]click[/link]" in proc.stdout + proc.stderr, proc.stdout
    # the same from inside the folder, the report written to a file
    out = tmp_path / "report.out"
    if args[0] in ("timeline", "graph"):
        proc = _run(*args, "-o", str(out), cwd=repo.path)
        assert proc.returncode == code, (label, proc.stdout, proc.stderr)
        _clean(f"{out} of {label}", out.read_text(encoding="utf-8"))
        _clean(f"stderr of {label} -o", proc.stderr)


def test_restore_apply_into_a_bracketed_folder(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = _run("restore", LOST, str(repo.path), "--apply", "--allow-new-head")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _clean("restore --apply", proc.stdout + proc.stderr)
    assert "proj[/]x" in proc.stdout + proc.stderr
    # the file itself is restored byte for byte: only what is shown is cleaned
    assert "\x1b[31m" in next((repo.path / V).glob(f"{LOST}_*.py")).read_text(encoding="utf-8")


def test_a_colour_terminal_gets_no_hyperlink_and_no_escape_of_the_message(tmp_path: Path) -> None:
    """With colours forced (as on a terminal), Rich writes its own escape sequences: the message's
    ``[link=…]`` must not become one (OSC 8), and its own ESC must not survive next to them."""
    repo = _repo(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    env.update({"FORCE_COLOR": "1", "COLUMNS": "300"})
    for args in (("scan", str(repo.path)), ("check", str(repo.path)), ("restore", LOST, str(repo.path), "--allow-new-head")):
        proc = subprocess.run([sys.executable, "-m", "migration_archaeologist", *args], capture_output=True, text=True,
                              env=env, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out = proc.stdout + proc.stderr
        assert "\x1b]8;" not in out, out  # no terminal hyperlink at all
        assert "\x1b[31mred" not in out and "\x07" not in out and "\u202e" not in out, repr(out)
    scan = subprocess.run([sys.executable, "-m", "migration_archaeologist", "scan", str(repo.path)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert "[link=https://evil]click[/link]" in scan.stdout and "\x1b[" in scan.stdout  # colours on, text as written


def _on_a_terminal(args: list[str]) -> tuple[int, str]:
    """The command with a pseudo-terminal as its standard output, as a person at a shell runs it."""
    import pty

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "MA_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "migration_archaeologist", *args], stdout=follower,
                            stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # EIO: the command closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    proc.communicate(timeout=300)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_offline_sql_on_a_terminal_is_shown_not_obeyed(tmp_path: Path) -> None:
    """case offline-sql-terminal: ``verify --offline`` prints the SQL Alembic renders from the
    revisions' own code; an ``op.execute`` string with ESC and BEL (a window-title sequence) reached
    the terminal raw. On a terminal it is shown (U+FFFD); into a pipe or a file it is the SQL as
    Alembic wrote it, byte for byte (a control character in a string literal is data there)."""
    repo = GitRepo.init(tmp_path / "repo")
    body = "    op.execute(\"SELECT '\\x1b]0;pwned\\x07'\")"
    repo.commit("one", {f"{V}/{R0}_first.py": revision_source(R0, None, "first", body=body),
                        "alembic.ini": "[alembic]\nscript_location = alembic\n", **environment_files()})
    args = ["verify", str(repo.path), "--db", f"sqlite:///{tmp_path / 'none.db'}", "--offline"]
    code, shown = _on_a_terminal(args)
    assert code == 0, shown
    assert "SELECT '\ufffd]0;pwned\ufffd'" in shown
    _clean("verify --offline on a terminal", shown)
    piped = _run(*args)
    assert piped.returncode == 0, piped.stderr
    assert "SELECT '\x1b]0;pwned\x07'" in piped.stdout
