"""The wait of a loop that wakes at a deadline, on request, or to stop."""

import asyncio
import contextlib


class Alarm:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.stopping = False

    def wake(self) -> None:
        """End the current (or the next) sleep now."""
        self._event.set()

    def stop(self) -> None:
        self.stopping = True
        self._event.set()

    async def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds``; at once if stopping."""
        self._event.clear()
        if self.stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=max(seconds, 0.0))
