"""Fan one reminder out to every subscription and record what happened."""

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from pushdesk.clock import Clock
from pushdesk.domain import (
    Gone,
    Outcome,
    Reminder,
    ReminderStatus,
    Subscription,
    outcome_name,
)
from pushdesk.events import EventHub, ReminderSent, SubscriptionsChanged
from pushdesk.log import SCHEDULER
from pushdesk.push.payload import reminder_payload
from pushdesk.store import Store

DEFAULT_CONCURRENCY = 64

# How often a long fan-out renews its claim on the reminder; well inside
# scheduler.CLAIM_LEASE, and longer than one push's timeout.
CLAIM_RENEWAL = timedelta(seconds=15)


class Sender(Protocol):
    async def send(self, subscription: Subscription, payload: bytes) -> Outcome: ...


@dataclass(frozen=True)
class DeliveryReport:
    reminder_id: int
    status: ReminderStatus
    delivered: int
    gone: int
    failed: int

    @property
    def total(self) -> int:
        return self.delivered + self.gone + self.failed


class DeliveryEngine:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        hub: EventHub,
        clock: Clock,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._store = store
        self._sender = sender
        self._hub = hub
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)

    async def deliver(self, reminder: Reminder, owner: str) -> DeliveryReport:
        """Send a claimed reminder to every subscription, then close it.

        Subscriptions that already have an attempt recorded for this reminder
        are skipped, so finishing an interrupted reminder sends nothing twice.
        """
        earlier = self._store.deliveries.for_reminder(reminder.id)
        attempted = {d.subscription_id for d in earlier}
        subscriptions = [
            sub for sub in self._store.subscriptions.all() if sub.id not in attempted
        ]
        payload = reminder_payload(reminder)
        claim = _Claim(self._store, reminder.id, owner, self._clock)

        outcomes = await asyncio.gather(
            *(self._send_one(reminder, sub, payload, claim) for sub in subscriptions)
        )

        names = [d.outcome for d in earlier] + [outcome_name(o) for o in outcomes]
        delivered = names.count("delivered")
        gone = names.count("gone")
        failed = len(names) - delivered - gone

        # A reminder with nobody to send to has still been sent; it failed only
        # when there were devices and none of them took it.
        status = ReminderStatus.SENT
        if names and not delivered:
            status = ReminderStatus.FAILED
        sent_at = self._clock()
        self._store.reminders.finish(reminder.id, status, sent_at)

        SCHEDULER.info(
            "reminder %d %s to %d of %d devices",
            reminder.id,
            "sent" if status is ReminderStatus.SENT else "failed",
            delivered,
            len(names),
        )
        if not names:
            SCHEDULER.warning(
                "reminder %d reached nobody: no device is subscribed", reminder.id
            )
        if gone:
            self._hub.publish(SubscriptionsChanged())
        self._hub.publish(
            ReminderSent(
                id=reminder.id,
                sent_at=sent_at,
                title=reminder.title,
                body=reminder.message,
                delivered=delivered,
                total=len(names),
            )
        )
        return DeliveryReport(reminder.id, status, delivered, gone, failed)

    async def _send_one(
        self,
        reminder: Reminder,
        subscription: Subscription,
        payload: bytes,
        claim: "_Claim",
    ) -> Outcome:
        async with self._slots:
            outcome = await self._sender.send(subscription, payload)

        # Each attempt is written as soon as it is known, so a crash midway
        # still leaves a record of every push that went out.
        self._store.deliveries.record(reminder.id, subscription, outcome, self._clock())
        claim.renew_if_due()
        if isinstance(outcome, Gone):
            self._store.subscriptions.delete(subscription.id)
            SCHEDULER.info(
                "subscription %s removed: the push service answered %d",
                subscription.short_endpoint,
                outcome.status,
            )
        return outcome


class _Claim:
    """Renews this process's claim on a reminder while its fan-out runs."""

    def __init__(self, store: Store, reminder_id: int, owner: str, clock: Clock):
        self._store = store
        self._reminder_id = reminder_id
        self._owner = owner
        self._clock = clock
        self._renewed_at = clock()

    def renew_if_due(self) -> None:
        now = self._clock()
        if now - self._renewed_at >= CLAIM_RENEWAL:
            self._store.reminders.keep_claim(self._reminder_id, self._owner, now)
            self._renewed_at = now
