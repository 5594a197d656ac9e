"""What the operator and the visitors can do, shared by the UI, CLI and server.

Each service writes through the store and then tells the event hub, so every
window, WebSocket and table sees the change.
"""

from datetime import datetime, timedelta

from pushdesk.clock import Clock
from pushdesk.domain import Reminder, ReminderDraft, Subscription, SubscriptionInput
from pushdesk.errors import InvalidInput, NotFound
from pushdesk.events import EventHub, ReminderChanged, SubscriptionsChanged
from pushdesk.log import WEB
from pushdesk.push.payload import MAX_PAYLOAD_BYTES, payload_size
from pushdesk.store import Store
from pushdesk.validation import is_text, parse_click_url

MAX_TITLE_LENGTH = 200
MAX_LEAD = timedelta(days=36525)


class ReminderService:
    def __init__(self, store: Store, hub: EventHub, clock: Clock) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock

    def check(self, title: str, message: str, url: str | None) -> ReminderDraft:
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
        draft = ReminderDraft(title, message, parse_click_url(url), self._clock())

        size = payload_size(draft.title, draft.message, draft.url)
        if size > MAX_PAYLOAD_BYTES:
            raise InvalidInput(
                f"The reminder is too long to send as one push ({size} bytes; "
                f"the limit is {MAX_PAYLOAD_BYTES}).",
                "message",
            )
        return draft

    def schedule(
        self, title: str, message: str, url: str | None, due_at: datetime
    ) -> Reminder:
        if due_at.tzinfo is None:
            raise InvalidInput("The due time has no time zone.", "due_at")
        if due_at - self._clock() > MAX_LEAD:
            raise InvalidInput("That time is more than 100 years away.", "due_at")
        draft = self.check(title, message, url)
        reminder = self._store.reminders.add(
            ReminderDraft(draft.title, draft.message, draft.url, due_at), self._clock()
        )
        self._hub.publish(ReminderChanged(reminder.id))
        return reminder

    def cancel(self, reminder_id: int) -> None:
        reminder = self._store.reminders.get(reminder_id)
        if not self._store.reminders.cancel(reminder_id):
            raise InvalidInput(
                f"Reminder {reminder_id} is {reminder.status.value}; "
                "only a scheduled reminder can be cancelled."
            )
        self._hub.publish(ReminderChanged(reminder_id))

    def all(self) -> list[Reminder]:
        return self._store.reminders.all()

    def get(self, reminder_id: int) -> Reminder:
        return self._store.reminders.get(reminder_id)


class SubscriptionService:
    def __init__(self, store: Store, hub: EventHub, clock: Clock) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock

    def register(self, subscription: SubscriptionInput) -> tuple[Subscription, bool]:
        stored, created = self._store.subscriptions.upsert(subscription, self._clock())
        if created:
            WEB.info("new subscription %s", stored.short_endpoint)
        self._hub.publish(SubscriptionsChanged())
        return stored, created

    def remove(self, endpoint: str) -> Subscription:
        removed = self._store.subscriptions.delete_endpoint(endpoint)
        if removed is None:
            raise NotFound("That subscription is not known.")
        WEB.info("subscription %s removed by its device", removed.short_endpoint)
        self._hub.publish(SubscriptionsChanged())
        return removed

    def all(self) -> list[Subscription]:
        return self._store.subscriptions.all()


class Services:
    """The operator's whole surface, handed to the window and the CLI."""

    def __init__(self, store: Store, hub: EventHub, clock: Clock) -> None:
        self._store = store
        self.hub = hub
        self.reminders = ReminderService(store, hub, clock)
        self.subscriptions = SubscriptionService(store, hub, clock)

    def outside_writes(self) -> int:
        """A number that changes when another process (the CLI) wrote data."""
        return self._store.data_version()
