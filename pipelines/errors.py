"""Errors of the jobs and the store."""

from __future__ import annotations

from geo.errors import LvdunError

__all__ = [
    "AuthError",
    "ConflictError",
    "DemoError",
    "EngineError",
    "EvidenceError",
    "IngestError",
    "LedgerError",
    "NotFoundError",
    "PermissionDeniedError",
    "PipelineError",
    "RecordError",
    "ReportError",
    "ReviewError",
    "StoreError",
    "TransitionError",
    "UserError",
    "WorkspaceError",
    "WorkspaceVersionError",
]


class PipelineError(LvdunError):
    """An error in a job."""


class StoreError(PipelineError):
    """The workspace cannot be opened, read or written."""


class WorkspaceError(StoreError, ValueError):
    """The workspace is not what a command needs (missing layer, not a lvdun workspace)."""


class WorkspaceVersionError(StoreError):
    """The workspace was written by a newer lvdun than this one: upgrade lvdun to open it."""


class IngestError(PipelineError, ValueError):
    """An ingest cannot go on; the workspace is left as it was."""


class NotFoundError(PipelineError, KeyError):
    """A lead, reserve or run named by the user does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class TransitionError(PipelineError, ValueError):
    """A status change the workflow does not allow; the message lists the allowed ones."""


class ConflictError(PipelineError):
    """A write names a stale version of a lead; both versions are shown."""


class RecordError(PipelineError, ValueError):
    """A rectification record or deadline cannot be used (e.g. a deadline that is not a date)."""


class EvidenceError(PipelineError, ValueError):
    """An evidence file cannot be read; nothing is recorded."""


class LedgerError(PipelineError, ValueError):
    """A file is not a ledger of this workspace, or cannot be read as one; nothing changes."""


class AuthError(PipelineError):
    """No token, or a token that is unknown or revoked: the caller is not logged in."""


class PermissionDeniedError(PipelineError, PermissionError):
    """The user is logged in but their role or reserves do not allow this."""


class EngineError(PipelineError, ValueError):
    """An unknown classification engine, or one the workspace cannot run."""


class ReportError(PipelineError, ValueError):
    """A report asked for in an unknown format or scope."""


class DemoError(PipelineError, ValueError):
    """The demo cannot be made as asked (too few leads)."""


class UserError(PipelineError, ValueError):
    """A user cannot be added or changed as asked (bad role, unknown reserve, taken name)."""


class ReviewError(TransitionError):
    """A review step the workflow does not allow now (nothing submitted, already approved,
    a return without a reason, a spot check that is not open)."""
