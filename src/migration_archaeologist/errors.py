"""Errors a user can act on: each carries its one-line message and the documented exit code."""

from __future__ import annotations

#: Exit codes, documented in README.md and docs/exit-codes.md.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


class ArchaeologistError(Exception):
    """Base for errors that end a command with a one-line message instead of a traceback."""

    exit_code = EXIT_ENVIRONMENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(ArchaeologistError):
    exit_code = EXIT_USAGE


class EnvironmentProblem(ArchaeologistError):
    """The repository, a file or a database cannot be used as given."""

    exit_code = EXIT_ENVIRONMENT


class NotARepository(EnvironmentProblem):
    pass


class EmptyRepository(EnvironmentProblem):
    pass


class GitFailed(EnvironmentProblem):
    pass


class RestoreConflict(ArchaeologistError):
    """A write was refused to protect what is already in the versions directory."""

    exit_code = EXIT_FINDINGS


class RestoreRefused(ArchaeologistError):
    """A restore that would leave the chain worse (a retired revision, a second head) unless asked for."""

    exit_code = EXIT_FINDINGS


class RevisionNotFound(ArchaeologistError):
    """Asked for a revision no source holds (Alembic's "Can't locate revision")."""

    exit_code = EXIT_FINDINGS
