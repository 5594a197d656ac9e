"""How pushdesk is doing, for a check from monitoring: read, never written."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from pushdesk.clock import Clock
from pushdesk.domain import ENGINE_SILENCE, ReminderQuery, ReminderStatus
from pushdesk.services.sending import SENDING_PAUSED
from pushdesk.store import Store

# How far back failures count.
FAILURE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Health:
    """One look at a data folder: is anyone sending, and is anything wrong."""

    checked_at: datetime
    last_heartbeat: datetime | None  # None: no pushdesk since the last clean stop
    devices: int
    scheduled: int  # reminders waiting for their time
    failed_recently: int  # reminders with a push that failed for good, last 24 h
    alerts: list[str]
    sending_paused: bool

    @property
    def running(self) -> bool:
        """A pushdesk (the app or ``serve``) works on this data right now."""
        if self.last_heartbeat is None:
            return False
        return self.checked_at - self.last_heartbeat <= ENGINE_SILENCE

    @property
    def healthy(self) -> bool:
        return self.running and not self.alerts


class HealthService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def check(self) -> Health:
        now = self._clock()
        store = self._store
        scheduled = ReminderQuery(statuses=(ReminderStatus.SCHEDULED,))
        return Health(
            checked_at=now,
            last_heartbeat=store.sends.last_heartbeat(),
            devices=store.subscriptions.count(),
            scheduled=store.reminders.count(scheduled),
            failed_recently=store.deliveries.reminders_failed_since(
                now - FAILURE_WINDOW
            ),
            alerts=[message for _, message in store.alerts.all()],
            # The row SendingControl keeps its switch in.
            sending_paused=store.settings.get(SENDING_PAUSED) == "1",
        )
