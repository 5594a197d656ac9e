"""A database that cannot be written for a while: said once, not every pass.

The scheduler and the delivery engine try again on their next pass by
themselves; this decides only what the operator hears. The first failure of
a kind is logged; one that lasts raises an alert (kept in the database when it
can be written, always published on the hub), cleared once writes work again.
"""

from datetime import datetime, timedelta

from pushdesk.clock import Clock
from pushdesk.errors import StorageError, StorageKind
from pushdesk.events import Alert, EventHub
from pushdesk.log import SCHEDULER
from pushdesk.store import Store

# A CLI import may hold the database for seconds; this long is not that.
ALERT_AFTER = timedelta(seconds=30)


def alert_key(kind: StorageKind) -> str:
    return f"storage:{kind.value}"


class StorageOutage:
    """What one loop (``action`` names its work) met in the database lately."""

    def __init__(
        self,
        store: Store,
        hub: EventHub,
        clock: Clock,
        action: str,
        *,
        alert_after: timedelta = ALERT_AFTER,
    ) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock
        self._action = action
        self._alert_after = alert_after
        self._kind: StorageKind | None = None
        self._since = datetime.min
        self._alerted: set[StorageKind] = set()
        # Alerts a pushdesk stopped in an outage left behind are cleared at
        # the first pass that works.
        self._stale_cleared = False

    @property
    def ongoing(self) -> StorageKind | None:
        """The kind of the fault met by the last pass, None if it worked."""
        return self._kind

    def failed(self, error: StorageError) -> None:
        """A pass met ``error``; its work waits for the next pass."""
        now = self._clock()
        if error.kind is not self._kind:
            self._kind, self._since = error.kind, now
            SCHEDULER.warning(
                "unable to %s: %s Trying again on every pass.", self._action, error
            )
        lasted = now - self._since >= self._alert_after
        if lasted and error.kind not in self._alerted:
            self._alert(error, now)

    def passed(self) -> None:
        """A pass wrote what it had to: the outage, if any, is over."""
        if self._kind is not None:
            SCHEDULER.info("able to %s again", self._action)
            self._kind = None

        stale = set(StorageKind) if not self._stale_cleared else set(self._alerted)
        if not stale:
            return
        try:
            for kind in stale:
                self._store.alerts.clear(alert_key(kind))
        except StorageError:
            return  # the database failed again; the next pass clears them
        self._alerted.clear()
        self._stale_cleared = True

    def _alert(self, error: StorageError, now: datetime) -> None:
        key = alert_key(error.kind)
        message = f"{error} Reminders wait until pushdesk can write again."
        self._alerted.add(error.kind)
        SCHEDULER.error("%s", message)
        try:
            first = self._store.alerts.raise_once(key, message, now)
        except StorageError:
            first = True  # not kept, but the window still hears it on the hub
        if first:
            self._hub.publish(Alert(key, message))
