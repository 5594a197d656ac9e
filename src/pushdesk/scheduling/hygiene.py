"""Devices that went quiet: warned once by a push, removed if they stay quiet.

The page re-posts its subscription on every load, which refreshes the device's
last-seen time and voids any warning. A device not seen for the
``stale_after_days`` setting gets one warning reminder, through the scheduler
and delivery like any other; one still quiet ``remove_after_warning_days``
after it is removed, its delivery log kept. What is quiet or due for removal
is a query, so a restart loses nothing and repeats nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from pushdesk import settings as catalogue
from pushdesk.clock import Clock
from pushdesk.devices import Staleness
from pushdesk.domain import (
    MAX_TTL,
    Reminder,
    ReminderDraft,
    Subscription,
    Target,
    Urgency,
)
from pushdesk.events import (
    Event,
    EventHub,
    ReminderChanged,
    SendingPaused,
    SettingsChanged,
    SubscriptionsChanged,
)
from pushdesk.log import SCHEDULER
from pushdesk.scheduling.alarm import Alarm
from pushdesk.services.sending import SendingControl
from pushdesk.store import Store

# Quiet means weeks: an hourly look removes a device within the hour its grace
# ends. Both lookups run along an index (m006), so a pass over 100,000 devices
# reads only the quiet ones.
PASS_SECONDS = 3600.0

# After a failed pass (a locked database): soon, not in an hour.
RETRY_SECONDS = 60.0

# Devices warned (in one reminder) or removed per step. Thousands gone quiet at
# once would otherwise hold the event loop, and the window, for seconds; the
# rest follow in further passes straight after.
BATCH = 1000

WARNING_TITLE = "pushdesk: this device will be removed"
WARNING_MESSAGE = (
    "Open pushdesk's page on this device to keep getting reminders; "
    "otherwise it will be removed on {date}."
)

_SETTINGS = ("stale_after_days", "remove_after_warning_days")


@dataclass(frozen=True)
class HygieneReport:
    """What one pass did: the warning reminder it added, the devices removed."""

    warning: Reminder | None
    removed: tuple[Subscription, ...]
    more: bool = False  # a batch was full: pass again for the rest


def removal_date(moment: datetime) -> str:
    """``17 December 2026``, in this machine's zone, for the warning's text."""
    return moment.astimezone().strftime("%d %B %Y").lstrip("0")


def warning_draft(ids: list[int], now: datetime, staleness: Staleness) -> ReminderDraft:
    """One reminder for every device warned in this pass: they share the date.

    No URL: the service worker opens the page itself, and opening it is what
    keeps the device.
    """
    removal_at = staleness.removal_at(now)
    ttl = min(staleness.grace, MAX_TTL)
    return ReminderDraft(
        WARNING_TITLE,
        WARNING_MESSAGE.format(date=removal_date(removal_at)),
        None,
        now,
        target=Target(subscription_ids=tuple(ids)),
        ttl=int(ttl.total_seconds()),
        urgency=Urgency.NORMAL,
    )


class DeviceHygiene:
    """Warns quiet devices and removes those that stay quiet.

    ``run_once`` does one pass at a given moment; ``run`` does one at start
    and then every PASS_SECONDS, and at once when one of its settings changes.
    """

    def __init__(
        self,
        store: Store,
        hub: EventHub,
        clock: Clock,
        *,
        sending: SendingControl | None = None,
        pass_seconds: float = PASS_SECONDS,
        batch: int = BATCH,
    ) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock
        self._sending = sending or SendingControl(store, hub)
        self._pass_seconds = pass_seconds
        self._batch = batch
        self._alarm = Alarm()

    def wake(self) -> None:
        self._alarm.wake()

    def request_stop(self) -> None:
        self._alarm.stop()

    def run_once(self, now: datetime) -> HygieneReport:
        """Remove the devices whose grace has ended, then warn the newly quiet;
        at most a batch of each."""
        staleness = self._staleness()

        removed = self._remove(now, staleness)

        warning = self._warn(now, staleness)
        warned = len(warning.target.subscription_ids) if warning else 0
        more = self._batch in (len(removed), warned)
        return HygieneReport(warning, tuple(removed), more)

    async def run(self) -> None:
        SCHEDULER.info("device hygiene started")
        unsubscribe = self._hub.subscribe(self._wake_on_change)
        try:
            while not self._alarm.stopping:
                try:
                    report = self.run_once(self._clock())
                    # A full batch: the rest at once, letting the loop breathe.
                    await self._alarm.sleep(0 if report.more else self._pass_seconds)
                except Exception:
                    # A locked database must not end hygiene for good.
                    SCHEDULER.exception("unable to check for quiet devices")
                    await self._alarm.sleep(RETRY_SECONDS)
        finally:
            unsubscribe()

    def _staleness(self) -> Staleness:
        keys = (catalogue.BY_NAME[name].key for name in _SETTINGS)
        texts = self._store.settings.get_many(keys)
        # A damaged row keeps its default; the settings service warns of it.
        return Staleness.of(catalogue.from_texts(texts))

    def _remove(self, now: datetime, staleness: Staleness) -> list[Subscription]:
        removed = self._store.subscriptions.remove_warned(
            staleness.warned_before(now), self._batch
        )
        for device in removed:
            SCHEDULER.info(
                "device %d (%s) removed: not seen since %s despite a warning",
                device.id,
                device.short_endpoint,
                device.last_seen_at.isoformat(),
            )
        if removed:
            self._hub.publish(SubscriptionsChanged())
        return removed

    def _warn(self, now: datetime, staleness: Staleness) -> Reminder | None:
        # Held sending would let the warning go missed while the device
        # counted as warned: the next pass after the resume warns instead.
        if self._sending.paused:
            return None

        with self._store.transaction():
            ids = self._store.subscriptions.quiet_unwarned(
                staleness.quiet_before(now), self._batch
            )
            if not ids:
                return None
            reminder = self._store.reminders.add(
                warning_draft(ids, now, staleness), now
            )
            self._store.subscriptions.mark_warned(ids, now)

        SCHEDULER.info(
            "reminder %d warns %d devices not seen for %d days",
            reminder.id,
            len(ids),
            staleness.quiet_after.days,
        )
        self._hub.publish(ReminderChanged(reminder.id))
        self._hub.publish(SubscriptionsChanged())
        return reminder

    def _wake_on_change(self, event: Event) -> None:
        settings_changed = isinstance(event, SettingsChanged) and bool(
            set(_SETTINGS) & set(event.names)
        )
        resumed = isinstance(event, SendingPaused) and not event.paused
        if settings_changed or resumed:
            self.wake()
