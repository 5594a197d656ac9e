"""Errors whose message is written for the person running pushdesk."""

from enum import Enum
from pathlib import Path


class PushdeskError(Exception):
    """A problem the user can act on; its message is one plain sentence."""


class StartupError(PushdeskError):
    """pushdesk cannot start as configured (port taken, key unreadable, ...)."""


class InvalidInput(PushdeskError):
    """Input from a client or the operator that pushdesk refuses.

    ``field`` names the offending field so an API can point at it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(PushdeskError):
    """The thing asked for does not exist (any more)."""


class DeviceLimitReached(PushdeskError):
    """One client address already has as many devices as the settings allow."""


class Forbidden(PushdeskError):
    """A visitor asked for something that is not theirs to ask (another
    device's reminder, more than allowed, a feature turned off).

    ``field`` names the part of the request at fault, when one is.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotOwner(PushdeskError):
    """A request about a known device that does not prove it is that device
    (its auth secret)."""


class StorageKind(Enum):
    """Why the database file could not be used: each has its own advice."""

    BUSY = "busy"
    READ_ONLY = "read_only"
    FULL = "full"
    DAMAGED = "damaged"
    DISK = "disk"


_STORAGE_SENTENCES = {
    StorageKind.BUSY: "The database is busy ({path}): another pushdesk or the CLI "
    "kept it locked; try again in a moment.",
    StorageKind.READ_ONLY: "The database is read-only ({path}); check the "
    "permissions of the file and its folder.",
    StorageKind.FULL: "The disk holding the database is full ({path}); free some "
    "space and try again.",
    StorageKind.DAMAGED: "The database is damaged ({path}); restore it from a "
    "backup, or move it away to start afresh.",
    StorageKind.DISK: "The disk reported an error on the database ({path}); check "
    "the disk and the file.",
}

# The same sentences for visitors on the network, who need not learn where the
# operator keeps their files.
_PUBLIC_SENTENCES = {
    StorageKind.BUSY: "pushdesk is busy; try again in a moment.",
    StorageKind.READ_ONLY: "pushdesk cannot save right now; try again later.",
    StorageKind.FULL: "pushdesk cannot save right now; try again later.",
    StorageKind.DAMAGED: "pushdesk cannot save right now; try again later.",
    StorageKind.DISK: "pushdesk cannot save right now; try again later.",
}


class StorageError(PushdeskError):
    """The database file cannot be read or written just now (or at all).

    Nothing stored is lost: the failed transaction was rolled back whole.
    """

    def __init__(self, kind: StorageKind, path: Path) -> None:
        super().__init__(_STORAGE_SENTENCES[kind].format(path=path))
        self.kind = kind
        self.path = path

    @property
    def public_message(self) -> str:
        """The sentence for a client on the network: no file names."""
        return _PUBLIC_SENTENCES[self.kind]
