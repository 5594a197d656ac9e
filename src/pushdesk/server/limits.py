"""Per-client rate limits for the page's actions."""

from collections import deque
from datetime import datetime, timedelta

from pushdesk.clock import Clock


class RateLimit:
    """At most ``count`` requests per ``window`` for each client address."""

    def __init__(self, count: int, window: timedelta, clock: Clock) -> None:
        self._count = count
        self._window = window
        self._clock = clock
        self._seen: dict[str, deque[datetime]] = {}

    def retry_after(self, client: str) -> int | None:
        """None to allow (and count) this request; else seconds to wait."""
        now = self._clock()
        times = self._seen.setdefault(client, deque())
        while times and now - times[0] >= self._window:
            times.popleft()
        if len(times) >= self._count:
            wait = self._window - (now - times[0])
            return max(1, int(wait.total_seconds() + 0.999))
        times.append(now)

        # Forget clients that went quiet, so the table cannot grow without end.
        if len(self._seen) > 10_000:
            self._seen = {k: v for k, v in self._seen.items() if v}
        return None
