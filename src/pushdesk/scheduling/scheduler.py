"""Fire reminders when they are due, to the second.

What is due is read from the database each time, so reminders the CLI adds
while pushdesk runs, and those that fell due while it was off, are seen.
"""

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta

from pushdesk.clock import Clock
from pushdesk.events import EventHub, ReminderChanged
from pushdesk.log import SCHEDULER
from pushdesk.scheduling.delivery import DeliveryEngine, DeliveryReport
from pushdesk.store import Store

# Another process may add a reminder at any moment; this bounds how long it
# waits before the scheduler looks again.
POLL_SECONDS = 1.0

# A sending reminder whose owner has not renewed its claim for this long is
# taken to be abandoned (a crash, a kill, a lost write) and is finished by
# whoever sees it. The owner renews far more often: see delivery.CLAIM_RENEWAL.
CLAIM_LEASE = timedelta(minutes=1)


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

        # Names this process in the claims it writes, so that a second process
        # on the same data can tell a live claim from an abandoned one.
        self.owner = uuid.uuid4().hex

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
            if not self._store.reminders.claim(reminder.id, self.owner, now):
                continue
            self._hub.publish(ReminderChanged(reminder.id))
            lateness = (now - reminder.due_at).total_seconds()
            if lateness > 60:
                SCHEDULER.info("reminder %d is %d s late", reminder.id, lateness)
            reports.append(await self._engine.deliver(reminder, self.owner))
        return reports

    def request_stop(self) -> None:
        """Finish the reminder being sent, if any, then leave ``run``."""
        self._stopping = True
        self._wakeup.set()

    async def finish_abandoned(self) -> list[DeliveryReport]:
        """Complete reminders whose sender stopped half way (crash, kill, error)."""
        now = self._clock()
        stale_before = now - CLAIM_LEASE
        reports = []
        for reminder in self._store.reminders.abandoned(stale_before):
            if not self._store.reminders.take_over(
                reminder.id, self.owner, stale_before, now
            ):
                continue
            SCHEDULER.warning(
                "reminder %d was left half sent; finishing it", reminder.id
            )
            reports.append(await self._engine.deliver(reminder, self.owner))
        return reports

    async def run(self) -> None:
        """Fire due reminders until stopped."""
        SCHEDULER.info("scheduler started")
        while not self._stopping:
            try:
                await self.finish_abandoned()
                await self.fire_due()
                await self._sleep_until_next()
            except Exception:
                # One bad round (a locked database, a damaged row) must not end
                # scheduling for the rest of the day.
                SCHEDULER.exception("unable to fire due reminders; trying again")
                await self._sleep(self._poll_seconds)

    async def _sleep_until_next(self) -> None:
        delay = self._poll_seconds
        next_due = self._store.reminders.next_due_at()
        if next_due is not None:
            delay = min(delay, _seconds_until(next_due, self._clock()))

        await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        """Wait up to ``seconds``, or less if woken or stopped."""
        self._wakeup.clear()
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=max(seconds, 0.0))


def _seconds_until(moment: datetime, now: datetime) -> float:
    return (moment - now).total_seconds()
