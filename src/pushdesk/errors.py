"""Errors whose message is written for the person running pushdesk."""


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
