"""Delivery attempts written the way the delivery engine writes them."""

from collections.abc import Sequence

from pushdesk.domain import (
    Outcome,
    Reminder,
    ReminderDraft,
    Subscription,
    SubscriptionInput,
    outcome_name,
)
from pushdesk.store import Store
from pushdesk.store.sends import Settlement
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH


class AttemptLog:
    """Writes attempts as the delivery engine does: fire, claim, settle."""

    def __init__(self, store: Store, clock: FakeClock) -> None:
        self._store = store
        self._clock = clock
        self._devices = 0

    def device(
        self, label: str | None, host: str = "fcm.googleapis.com"
    ) -> Subscription:
        self._devices += 1
        endpoint = f"https://{host}/fcm/send/token-{self._devices}"
        stored, _ = self._store.subscriptions.upsert(
            SubscriptionInput(endpoint, P256DH, AUTH, label=label), self._clock.now
        )
        return stored

    def reminder(self, title: str) -> Reminder:
        draft = ReminderDraft(title, "message", None, self._clock.now)
        return self._store.reminders.add(draft, self._clock.now)

    def send(
        self,
        reminder: Reminder,
        devices: Sequence[Subscription],
        outcomes: Sequence[Outcome],
    ) -> None:
        """Each outcome in turn for every device, a second apart; the last stays."""
        self._store.reminders.fire(
            reminder,
            [d.id for d in devices],
            self._clock.now,
            late=False,
            next_due=None,
        )
        for number, outcome in enumerate(outcomes, start=1):
            now = self._clock.now
            jobs = self._store.sends.claim_ready("test", now, limit=len(devices))
            last = number == len(outcomes)
            state = outcome_name(outcome) if last else "pending"
            settlements = [
                Settlement(job, outcome, state, None if last else now) for job in jobs
            ]
            self._store.sends.settle(settlements, now)
            self._clock.advance(seconds=1)
