"""Time as a parameter: everything that asks "what time is it" takes a Clock."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, in UTC, to the microsecond."""
    return datetime.now(UTC)
