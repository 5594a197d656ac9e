"""What the operator and the visitors can do, shared by the UI, CLI and server.

Each service writes through the store and then tells the event hub, so every
window, WebSocket and table sees the change.
"""

import hmac
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pushdesk.clock import Clock
from pushdesk.domain import (
    DEFAULT_TTL_SECONDS,
    Reminder,
    ReminderDraft,
    Replacement,
    Subscription,
    SubscriptionInput,
    Target,
    Urgency,
)
from pushdesk.errors import InvalidInput, NotFound
from pushdesk.events import EventHub, ReminderChanged, SubscriptionsChanged
from pushdesk.log import WEB
from pushdesk.push.payload import MAX_PAYLOAD_BYTES, payload_size
from pushdesk.scheduling.recurrence import Recurrence
from pushdesk.store import Store
from pushdesk.store.receipts import Reach
from pushdesk.transfer import ImportReport, check_item, export_document, read_items
from pushdesk.validation import is_text, parse_click_url

MAX_TITLE_LENGTH = 200
EVERYONE = Target()
MAX_LEAD = timedelta(days=36525)

# Push services keep a message for an offline device at most about four weeks.
MAX_TTL_SECONDS = 28 * 24 * 60 * 60


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
    ) -> Reminder:
        draft = self._draft(title, message, url, due_at, target, ttl, urgency, repeat)
        reminder = self._store.reminders.add(draft, self._clock())
        self._hub.publish(ReminderChanged(reminder.id))
        return reminder

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
    ) -> Reminder:
        """Change a reminder that has not gone out yet."""
        current = self._store.reminders.get(reminder_id)
        draft = self._draft(title, message, url, due_at, target, ttl, urgency, repeat)
        if not self._store.reminders.edit(reminder_id, draft):
            raise InvalidInput(
                f"Reminder {reminder_id} is {current.status.value}; only a scheduled "
                "reminder can be edited."
            )
        self._hub.publish(ReminderChanged(reminder_id))
        return self._store.reminders.get(reminder_id)

    def cancel(self, reminder_id: int) -> None:
        """Cancel a scheduled reminder, or stop the rest of one being sent."""
        reminder = self._store.reminders.get(reminder_id)
        if not self._store.reminders.cancel(reminder_id):
            raise InvalidInput(
                f"Reminder {reminder_id} is {reminder.status.value}; only a scheduled "
                "or sending reminder can be cancelled."
            )
        self._hub.publish(ReminderChanged(reminder_id))

    def send_now(self, reminder_id: int) -> None:
        """Fire a scheduled reminder at once; a repeating one keeps its schedule."""
        reminder = self._store.reminders.get(reminder_id)
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

        checked = self.check(title, message, url)
        return ReminderDraft(
            checked.title,
            checked.message,
            checked.url,
            due_at,
            target=target,
            ttl=ttl,
            urgency=urgency,
            repeat=repeat.to_text() if repeat else None,
        )

    def all(self) -> list[Reminder]:
        return self._store.reminders.all()

    def reach(self) -> dict[int, Reach]:
        """Per reminder: devices that took it, showed it and opened it."""
        return self._store.receipts.reach()

    def record_receipt(self, reminder_id: int, device: int, kind: str) -> None:
        self._store.receipts.record(reminder_id, device, kind, self._clock())
        self._hub.publish(ReminderChanged(reminder_id))

    def get(self, reminder_id: int) -> Reminder:
        return self._store.reminders.get(reminder_id)


class SubscriptionService:
    def __init__(self, store: Store, hub: EventHub, clock: Clock) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock

    def register(
        self, subscription: SubscriptionInput, replaces: Replacement | None = None
    ) -> tuple[Subscription, bool]:
        """Store or refresh a device; ``replaces`` names the row it succeeds.

        The old row is taken over (name and groups kept, row deleted) only when
        its auth secret matches: knowing an endpoint alone proves nothing.
        """
        with self._store.transaction():
            old = self._owned(replaces) if replaces else None
            if old is not None and subscription.label is None:
                subscription = replace(subscription, label=old.label or "")
            groups = old.groups if old is not None else None
            stored, created = self._store.subscriptions.upsert(
                subscription, self._clock(), groups
            )
            if old is not None and old.id != stored.id:
                self._store.subscriptions.delete(old.id)
                WEB.info("%s replaced %s", stored.short_endpoint, old.short_endpoint)
        if created:
            WEB.info("new subscription %s", stored.short_endpoint)
        self._hub.publish(SubscriptionsChanged())
        return stored, created

    def owned(self, proof: Replacement) -> Subscription | None:
        """The device at ``proof.endpoint``, if ``proof.auth`` is its secret."""
        return self._owned(proof)

    def _owned(self, replaces: Replacement) -> Subscription | None:
        old = self._store.subscriptions.find(replaces.endpoint)
        if old is None or not hmac.compare_digest(old.auth, replaces.auth):
            return None
        return old

    def remove(self, proof: Replacement) -> Subscription:
        """Delete a device's row at its own request (endpoint and auth secret)."""
        owned = self._owned(proof)
        if owned is None:
            # Unknown, or known with another secret: the same answer, so the
            # API does not tell which endpoints exist.
            raise NotFound("That subscription is not known.")
        removed = self._store.subscriptions.delete_endpoint(owned.endpoint)
        if removed is None:
            raise NotFound("That subscription is not known.")
        WEB.info("subscription %s removed by its device", removed.short_endpoint)
        self._hub.publish(SubscriptionsChanged())
        return removed

    def all(self) -> list[Subscription]:
        return self._store.subscriptions.all()

    def count(self) -> int:
        return self._store.subscriptions.count()

    def import_text(self, text: str, allowed_origins: Iterable[str]) -> ImportReport:
        """Add or update every valid item; report the others with the reason."""
        report = ImportReport()
        now = self._clock()
        with self._store.transaction():
            for item in read_items(text):
                try:
                    subscription, groups = check_item(item, allowed_origins)
                except InvalidInput as exc:
                    report.rejected.append((item.where, str(exc)))
                    continue
                _, created = self._store.subscriptions.upsert(subscription, now, groups)
                if created:
                    report.added += 1
                else:
                    report.updated += 1
        WEB.info("subscribers imported: %s", report.summary())
        self._hub.publish(SubscriptionsChanged())
        return report

    def export(self) -> list[dict[str, Any]]:
        return [export_document(s) for s in self._store.subscriptions.all()]


class Services:
    """The operator's whole surface, handed to the window and the CLI."""

    def __init__(self, store: Store, hub: EventHub, clock: Clock) -> None:
        self._store = store
        self.hub = hub
        self._clock = clock
        self.reminders = ReminderService(store, hub, clock)
        self.subscriptions = SubscriptionService(store, hub, clock)

    def now(self) -> datetime:
        return self._clock()

    def receipt_secret(self) -> str:
        return self._store.receipt_secret()

    def alerts(self) -> list[str]:
        """Standing alerts for the operator, oldest first."""
        return [message for _, message in self._store.alerts.all()]

    def outside_writes(self) -> int:
        """A number that changes when another process (the CLI) wrote data."""
        return self._store.data_version()
