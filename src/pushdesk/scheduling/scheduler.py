"""Fire reminders when they are due, to the second.

What is due is read from the database each time, so reminders the CLI adds
while pushdesk runs, and those that fell due while it was off, are seen.
"""

import asyncio
import contextlib
from datetime import datetime

from pushdesk.clock import Clock
from pushdesk.events import EventHub, ReminderChanged
from pushdesk.log import SCHEDULER
from pushdesk.scheduling.delivery import DeliveryEngine, DeliveryReport
from pushdesk.store import Store

# Another process may add a reminder at any moment; this bounds how long it
# waits before the scheduler looks again.
POLL_SECONDS = 1.0


class Scheduler:
    def __init__(
        self,
        store: Store,
        engine: DeliveryEngine,
        hub: EventHub,
        clock: Clock,
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._store = store
        self._engine = engine
        self._hub = hub
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look again now: something was added or changed in this process."""
        self._wakeup.set()

    async def fire_due(self) -> list[DeliveryReport]:
        """Send every reminder due at the clock's now; return what was sent."""
        now = self._clock()
        reports = []
        for reminder in self._store.reminders.due(now):
            if self._stopping:
                break
            if not self._store.reminders.claim(reminder.id):
                continue
            self._hub.publish(ReminderChanged(reminder.id))
            lateness = (now - reminder.due_at).total_seconds()
            if lateness > 60:
                SCHEDULER.info("reminder %d is %d s late", reminder.id, lateness)
            reports.append(await self._engine.deliver(reminder))
        return reports

    def request_stop(self) -> None:
        """Finish the reminder being sent, if any, then leave ``run``."""
        self._stopping = True
        self._wakeup.set()

    async def finish_interrupted(self) -> list[DeliveryReport]:
        """Complete reminders a previous run left half sent."""
        reports = []
        for reminder in self._store.reminders.interrupted():
            SCHEDULER.warning(
                "reminder %d was interrupted while sending; finishing it", reminder.id
            )
            reports.append(await self._engine.deliver(reminder))
        return reports

    async def run(self) -> None:
        """Fire due reminders until stopped."""
        SCHEDULER.info("scheduler started")
        try:
            await self.finish_interrupted()
        except Exception:
            SCHEDULER.exception("unable to finish interrupted reminders")
        while not self._stopping:
            try:
                await self.fire_due()
            except Exception:
                # One bad round (a locked database, say) must not end
                # scheduling for the rest of the day.
                SCHEDULER.exception("unable to fire due reminders; trying again")
            await self._sleep_until_next()

    async def _sleep_until_next(self) -> None:
        delay = self._poll_seconds
        next_due = self._store.reminders.next_due_at()
        if next_due is not None:
            delay = min(delay, _seconds_until(next_due, self._clock()))

        self._wakeup.clear()
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=max(delay, 0.0))


def _seconds_until(moment: datetime, now: datetime) -> float:
    return (moment - now).total_seconds()
