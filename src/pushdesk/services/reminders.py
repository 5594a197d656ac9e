"""Reminders: scheduling, editing, cancelling and sending them early."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pushdesk.clock import Clock
from pushdesk.domain import (
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    Reminder,
    ReminderDraft,
    ReminderQuery,
    ReminderStatus,
    Target,
    Urgency,
)
from pushdesk.errors import InvalidInput, NotFound
from pushdesk.events import EventHub, ReminderChanged
from pushdesk.push.payload import MAX_PAYLOAD_BYTES, payload_size
from pushdesk.scheduling.recurrence import Recurrence
from pushdesk.store import Store
from pushdesk.store.receipts import Reach
from pushdesk.validation import is_text, parse_click_url

MAX_TITLE_LENGTH = 200
# What a visitor's reminder is called on their screen; they write the message.
VISITOR_TITLE = "Reminder"
EVERYONE = Target()
MAX_LEAD = timedelta(days=36525)


def _icon(url: str | None) -> str | None:
    try:
        return parse_click_url(url)
    except InvalidInput:
        raise InvalidInput(
            "The icon must be the http:// or https:// address of an image.", "icon"
        ) from None


@dataclass(frozen=True)
class ReminderLine:
    """A reminder as a listing shows it."""

    reminder: Reminder
    reach: Reach
    # For a reminder a visitor set from the page: their device's name, "device
    # N" when it has none, or "a removed device".
    visitor: str | None = None


def visitor_name(device: int, labels: dict[int, str | None]) -> str:
    if device not in labels:
        return "a removed device"
    return labels[device] or f"device {device}"


class ReminderService:
    def __init__(self, store: Store, hub: EventHub, clock: Clock) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock

    def check(
        self, title: str, message: str, url: str | None, icon: str | None = None
    ) -> ReminderDraft:
        """Validate a reminder's text; the due time is checked by ``schedule``."""
        title = title.strip() or "pushdesk"
        message = message.strip()
        for name, text in (("title", title), ("message", message)):
            if not is_text(text):
                raise InvalidInput(
                    f"The {name} contains characters that are not text.", name
                )
        if not message:
            raise InvalidInput("The message is empty.", "message")
        if len(title) > MAX_TITLE_LENGTH:
            raise InvalidInput(
                f"The title is longer than {MAX_TITLE_LENGTH} characters.", "title"
            )
        draft = ReminderDraft(
            title, message, parse_click_url(url), self._clock(), icon=_icon(icon)
        )

        size = payload_size(draft.title, draft.message, draft.url, draft.icon)
        if size > MAX_PAYLOAD_BYTES:
            raise InvalidInput(
                f"The reminder is too long to send as one push ({size} bytes; "
                f"the limit is {MAX_PAYLOAD_BYTES}).",
                "message",
            )
        return draft

    def schedule(
        self,
        title: str,
        message: str,
        url: str | None,
        due_at: datetime,
        *,
        target: Target = EVERYONE,
        ttl: int = DEFAULT_TTL_SECONDS,
        urgency: Urgency = Urgency.NORMAL,
        repeat: Recurrence | None = None,
        icon: str | None = None,
    ) -> Reminder:
        draft = self._draft(
            title, message, url, due_at, target, ttl, urgency, repeat, icon
        )
        reminder = self._store.reminders.add(draft, self._clock())
        self._hub.publish(ReminderChanged(reminder.id))
        return reminder

    def schedule_for_visitor(
        self,
        message: str,
        due_at: datetime,
        *,
        visitor_device: int,
        devices: list[int],
        ttl: int,
        most_pending: int,
    ) -> Reminder | None:
        """A reminder a visitor set from the page, for devices they proved are
        theirs; None if their device already has ``most_pending`` waiting.

        Urgency is high: the visitor asked for this very time.
        """
        draft = self._draft(
            VISITOR_TITLE,
            message,
            None,
            due_at,
            Target(subscription_ids=tuple(devices)),
            ttl,
            Urgency.HIGH,
            None,
            None,
        )
        draft = replace(draft, visitor_device=visitor_device)
        reminder = self._store.reminders.add_for_visitor(
            draft, self._clock(), most_pending
        )
        if reminder is not None:
            self._hub.publish(ReminderChanged(reminder.id))
        return reminder

    def pending_of_visitor(self, visitor_device: int) -> list[Reminder]:
        return self._store.reminders.pending_of_visitor(visitor_device)

    def edit(
        self,
        reminder_id: int,
        title: str,
        message: str,
        url: str | None,
        due_at: datetime,
        *,
        target: Target = EVERYONE,
        ttl: int = DEFAULT_TTL_SECONDS,
        urgency: Urgency = Urgency.NORMAL,
        repeat: Recurrence | None = None,
        icon: str | None = None,
    ) -> Reminder:
        """Change a reminder that has not gone out yet; one a visitor set
        stays theirs (marked in the window, listed and cancellable on their
        page)."""
        current = self._live(reminder_id)
        draft = self._draft(
            title, message, url, due_at, target, ttl, urgency, repeat, icon
        )
        draft = replace(draft, visitor_device=current.visitor_device)
        if not self._store.reminders.edit(reminder_id, draft):
            raise InvalidInput(
                f"Reminder {reminder_id} is {current.status.value}; only a scheduled "
                "reminder can be edited."
            )
        self._hub.publish(ReminderChanged(reminder_id))
        return self._store.reminders.get(reminder_id)

    def cancel(self, reminder_id: int) -> None:
        """Cancel a scheduled reminder, or stop the rest of one being sent."""
        reminder = self._live(reminder_id)
        if not self._store.reminders.cancel(reminder_id):
            raise InvalidInput(
                f"Reminder {reminder_id} is {reminder.status.value}; only a scheduled "
                "or sending reminder can be cancelled."
            )
        self._hub.publish(ReminderChanged(reminder_id))

    def send_now(self, reminder_id: int) -> None:
        """Fire a scheduled reminder at once; a repeating one keeps its schedule."""
        reminder = self._live(reminder_id)
        targets = self._store.subscriptions.ids_for(reminder.target)
        if not self._store.reminders.send_now(reminder, targets, self._clock()):
            raise InvalidInput(
                f"Reminder {reminder_id} is {reminder.status.value}; only a scheduled "
                "reminder can be sent now."
            )
        self._hub.publish(ReminderChanged(reminder_id))

    def _draft(
        self,
        title: str,
        message: str,
        url: str | None,
        due_at: datetime,
        target: Target,
        ttl: int,
        urgency: Urgency,
        repeat: Recurrence | None,
        icon: str | None,
    ) -> ReminderDraft:
        if due_at.tzinfo is None:
            raise InvalidInput("The due time has no time zone.", "due_at")
        if due_at - self._clock() > MAX_LEAD:
            raise InvalidInput("That time is more than 100 years away.", "due_at")
        if not 0 <= ttl <= MAX_TTL_SECONDS:
            raise InvalidInput(
                f"The TTL must be from 0 to {MAX_TTL_SECONDS} seconds (28 days).", "ttl"
            )
        self._store.subscriptions.check_target(target)

        checked = self.check(title, message, url, icon)
        return ReminderDraft(
            checked.title,
            checked.message,
            checked.url,
            due_at,
            target=target,
            ttl=ttl,
            urgency=urgency,
            repeat=repeat.to_text() if repeat else None,
            icon=checked.icon,
        )

    def delete(self, reminder_id: int) -> None:
        """Remove a reminder from the listings; its delivery log is kept."""
        reminder = self._live(reminder_id)
        if not self._store.reminders.delete(reminder_id, self._clock()):
            raise InvalidInput(
                f"Reminder {reminder_id} is being sent; cancel it before deleting it."
                if reminder.status is ReminderStatus.SENDING
                else f"There is no reminder {reminder_id}."
            )
        self._hub.publish(ReminderChanged(reminder_id))

    def all(self) -> list[Reminder]:
        return self._store.reminders.all()

    def count(self, query: ReminderQuery) -> int:
        return self._store.reminders.count(query)

    def page(self, query: ReminderQuery, offset: int, limit: int) -> list[ReminderLine]:
        """One page of a listing, each reminder with how far it got."""
        return self._lines(self._store.reminders.page(query, offset, limit))

    def line(self, reminder_id: int) -> ReminderLine:
        """One reminder as a listing shows it; NotFound if there is none."""
        [line] = self._lines([self._live(reminder_id)])
        return line

    def _live(self, reminder_id: int) -> Reminder:
        """A reminder the operator may still act on: NotFound once deleted,
        as it is gone from every listing."""
        reminder = self._store.reminders.get(reminder_id)
        if reminder.deleted:
            raise NotFound(f"There is no reminder {reminder_id}; it was deleted.")
        return reminder

    def _lines(self, reminders: list[Reminder]) -> list[ReminderLine]:
        reach = self._store.receipts.reach([r.id for r in reminders])
        devices = [r.visitor_device for r in reminders if r.visitor_device]
        labels = self._store.subscriptions.labels(devices) if devices else {}
        return [
            ReminderLine(
                r,
                reach.get(r.id, Reach()),
                visitor_name(r.visitor_device, labels) if r.visitor_device else None,
            )
            for r in reminders
        ]

    def progress(self) -> tuple[int, int] | None:
        """Sends settled of all sends, over everything going out right now."""
        return self._store.receipts.progress()

    def devices_reached(self, target: Target) -> int:
        """How many devices a reminder with this target would go to now."""
        self._store.subscriptions.check_target(target)
        return len(self._store.subscriptions.ids_for(target))

    def reach(self) -> dict[int, Reach]:
        """Per reminder: devices that took it, showed it and opened it."""
        return self._store.receipts.reach()

    def record_receipt(self, reminder_id: int, device: int, kind: str) -> None:
        if self._store.receipts.record(reminder_id, device, kind, self._clock()):
            self._hub.publish(ReminderChanged(reminder_id))

    def get(self, reminder_id: int) -> Reminder:
        return self._store.reminders.get(reminder_id)
