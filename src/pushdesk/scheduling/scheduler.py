"""Fire reminders when they are due, to the second.

What is due is read from the database each time, so reminders the CLI adds
while pushdesk runs, and those that fell due while it was off, are seen. Firing
an occurrence queues one send per targeted device in the same transaction
that moves the reminder on; the delivery engine does the rest.

While the operator holds all sending nothing fires; on resume what fell due
meanwhile is late, and a one-shot past the maximum lateness is missed, just as
if pushdesk had been off.
"""

from datetime import datetime, timedelta

from pushdesk.clock import Clock
from pushdesk.domain import DEFAULT_MAX_LATENESS, Reminder
from pushdesk.errors import StorageError
from pushdesk.events import Event, EventHub, ReminderChanged, SendingPaused
from pushdesk.log import SCHEDULER
from pushdesk.scheduling.alarm import Alarm
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.outage import StorageOutage
from pushdesk.scheduling.recurrence import (
    Recurrence,
    next_occurrence,
    occurrences_between,
)
from pushdesk.services.sending import SendingControl
from pushdesk.store import Store

# Another process may add a reminder at any moment; this bounds how long it
# waits before the scheduler looks again.
POLL_SECONDS = 1.0

# Enough to tell "missed a few" from "missed many" in the log, cheaply.
MAX_CATCH_UP = 1000

# Later than this counts as late (worth a log line and a mark in the table);
# a running pushdesk fires well within it.
LATE_AFTER = timedelta(seconds=5)


class Scheduler:
    def __init__(
        self,
        store: Store,
        engine: DeliveryEngine,
        hub: EventHub,
        clock: Clock,
        *,
        poll_seconds: float = POLL_SECONDS,
        max_lateness: timedelta = DEFAULT_MAX_LATENESS,
        sending: SendingControl | None = None,
    ) -> None:
        self._store = store
        self._engine = engine
        self._hub = hub
        self._clock = clock
        self._poll_seconds = poll_seconds
        self.max_lateness = max_lateness
        self._sending = sending or SendingControl(store, hub)
        self._alarm = Alarm()
        self.outage = StorageOutage(store, hub, clock, "fire due reminders")

    def wake(self) -> None:
        """Look again now: something was added or changed in this process."""
        self._alarm.wake()

    def request_stop(self) -> None:
        self._alarm.stop()

    def fire_due(self) -> list[Reminder]:
        """Fire every reminder due at the clock's now; return those fired.

        Nothing fires while sending is paused.
        """
        if self._sending.paused:
            return []

        now = self._clock()
        fired = []
        for reminder in self._store.reminders.due(now):
            if self._alarm.stopping:
                break
            if self._fire(reminder, now):
                fired.append(reminder)
        if fired:
            self._engine.wake()
        return fired

    async def run(self) -> None:
        SCHEDULER.info("scheduler started")
        unsubscribe = self._hub.subscribe(self._wake_on_resume)
        try:
            while not self._alarm.stopping:
                await self._alarm.sleep(self.run_once())
        finally:
            unsubscribe()

    def run_once(self) -> float:
        """One pass: fire what is due; return the seconds to wait for the next.

        One bad pass (a database that cannot be written, a damaged row) must
        not end scheduling for the rest of the day: what was due stays due,
        and the next pass fires it.
        """
        try:
            self.fire_due()
            wait = self._seconds_to_next_due()
        except StorageError as exc:
            self.outage.failed(exc)
            return self._poll_seconds
        except Exception:
            SCHEDULER.exception("unable to fire due reminders; trying again")
            return self._poll_seconds
        self.outage.passed()
        return wait

    def _wake_on_resume(self, event: Event) -> None:
        # A resume in another process is seen at the next poll instead.
        if isinstance(event, SendingPaused) and not event.paused:
            self.wake()

    def _fire(self, reminder: Reminder, now: datetime) -> bool:
        rule = Recurrence.from_text(reminder.repeat) if reminder.repeat else None
        occurrence_at = reminder.due_at
        next_due = None
        if rule is not None:
            # Occurrences missed while pushdesk was off go out once, as the
            # latest of them; the rule then continues from the next one.
            anchor = reminder.anchor_at or reminder.due_at
            missed = occurrences_between(
                rule, anchor, reminder.due_at, now, limit=MAX_CATCH_UP
            )
            if missed:
                occurrence_at = missed[-1]
                SCHEDULER.warning(
                    "reminder %d missed %d occurrences while pushdesk was off; "
                    "sending it once",
                    reminder.id,
                    len(missed) + 1,
                )
            next_due = next_occurrence(rule, anchor, now)

        lateness = now - occurrence_at

        if rule is None and lateness > self.max_lateness:
            if self._store.reminders.mark_missed(reminder):
                SCHEDULER.warning(
                    "reminder %d missed: due %s, %s ago, more than the %s allowed",
                    reminder.id,
                    reminder.due_at.isoformat(),
                    _minutes(lateness),
                    _minutes(self.max_lateness),
                )
                self._hub.publish(ReminderChanged(reminder.id))
            return False

        late = lateness > LATE_AFTER
        targets = self._store.subscriptions.ids_for(reminder.target)
        if not self._store.reminders.fire(
            reminder,
            targets,
            now,
            late=late,
            next_due=next_due,
            occurrence_at=occurrence_at,
        ):
            return False  # another process fired it first

        if late:
            SCHEDULER.warning("reminder %d is %s late", reminder.id, _minutes(lateness))
        SCHEDULER.info("reminder %d fired for %d devices", reminder.id, len(targets))
        self._hub.publish(ReminderChanged(reminder.id))
        return True

    def _seconds_to_next_due(self) -> float:
        # While paused, what is due stays due: waiting for it would spin.
        if self._sending.paused:
            return self._poll_seconds
        next_due = self._store.reminders.next_due_at()
        if next_due is None:
            return self._poll_seconds
        until = (next_due - self._clock()).total_seconds()
        return min(self._poll_seconds, max(until, 0.0))


def _minutes(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min"
