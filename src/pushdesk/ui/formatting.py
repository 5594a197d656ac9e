"""How the window writes times: local, the same in every table."""

from datetime import datetime


def local_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """``2026-12-03 19:30`` in this machine's zone; empty for no time."""
    if moment is None:
        return ""
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return moment.astimezone().strftime(pattern)
