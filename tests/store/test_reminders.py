from datetime import timedelta

import pytest

from pushdesk.domain import ReminderDraft, ReminderStatus, SubscriptionInput
from pushdesk.errors import NotFound
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH


def draft(clock: FakeClock, **delay: float) -> ReminderDraft:
    return ReminderDraft("Title", "Message", None, clock.now + timedelta(**delay))


def test_added_reminder_is_scheduled(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(draft(clock, minutes=5), clock.now)

    assert reminder.status is ReminderStatus.SCHEDULED
    assert reminder.due_at == clock.now + timedelta(minutes=5)
    assert reminder.sent_at is None
    assert store.reminders.get(reminder.id) == reminder


def test_due_is_inclusive_to_the_second(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(draft(clock, seconds=10), clock.now)

    assert store.reminders.due(clock.now + timedelta(seconds=9)) == []
    assert store.reminders.due(clock.now + timedelta(seconds=10)) == [reminder]


def test_due_lists_oldest_first_and_skips_other_states(
    store: Store, clock: FakeClock
) -> None:
    later = store.reminders.add(draft(clock, seconds=-5), clock.now)
    earlier = store.reminders.add(draft(clock, seconds=-50), clock.now)
    cancelled = store.reminders.add(draft(clock, seconds=-60), clock.now)
    store.reminders.cancel(cancelled.id)

    assert [r.id for r in store.reminders.due(clock.now)] == [earlier.id, later.id]


def test_firing_queues_sends_and_succeeds_once(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(draft(clock), clock.now)

    assert store.reminders.fire(reminder, [1, 2], clock.now, late=False, next_due=None)
    assert not store.reminders.fire(
        reminder, [1, 2], clock.now, late=False, next_due=None
    )

    assert store.reminders.get(reminder.id).status is ReminderStatus.SENDING
    assert store.sends.states(reminder.id) == {"pending": 2}


def test_firing_a_repeating_reminder_moves_it_to_its_next_time(
    store: Store, clock: FakeClock
) -> None:
    reminder = store.reminders.add(draft(clock), clock.now)
    next_due = clock.now + timedelta(days=1)

    store.reminders.fire(reminder, [1], clock.now, late=True, next_due=next_due)

    moved = store.reminders.get(reminder.id)
    assert (moved.status, moved.due_at, moved.late) == (
        ReminderStatus.SCHEDULED,
        next_due,
        True,
    )


def test_cancel_stops_the_sends_still_waiting(store: Store, clock: FakeClock) -> None:
    ids = [
        store.subscriptions.upsert(
            SubscriptionInput(f"https://push.example/{n}", P256DH, AUTH), clock.now
        )[0].id
        for n in range(3)
    ]
    reminder = store.reminders.add(draft(clock), clock.now)
    store.reminders.fire(reminder, ids, clock.now, late=False, next_due=None)
    store.sends.claim_ready("me", clock.now, limit=1)

    assert store.reminders.cancel(reminder.id) is True

    assert store.reminders.get(reminder.id).status is ReminderStatus.CANCELLED
    assert store.sends.states(reminder.id) == {"cancelled": 2, "in_flight": 1}


def test_finished_reminders_cannot_be_cancelled(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(draft(clock), clock.now)
    store.reminders.fire(reminder, [], clock.now, late=False, next_due=None)
    store.reminders.finish(reminder.id, ReminderStatus.SENT, clock.now)

    assert store.reminders.cancel(reminder.id) is False


def test_finish_records_status_and_sent_time(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(draft(clock), clock.now)
    store.reminders.fire(reminder, [], clock.now, late=False, next_due=None)

    store.reminders.finish(reminder.id, ReminderStatus.SENT, clock.advance(seconds=3))

    finished = store.reminders.get(reminder.id)
    assert finished.status is ReminderStatus.SENT
    assert finished.sent_at == clock.now


def test_edit_only_while_scheduled(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(draft(clock), clock.now)
    changed = ReminderDraft("New", "Text", None, clock.now + timedelta(hours=2))

    assert store.reminders.edit(reminder.id, changed) is True
    assert store.reminders.get(reminder.id).title == "New"
    store.reminders.fire(
        store.reminders.get(reminder.id), [], clock.now, late=False, next_due=None
    )
    assert store.reminders.edit(reminder.id, changed) is False


def test_next_due_ignores_reminders_that_are_not_scheduled(
    store: Store, clock: FakeClock
) -> None:
    assert store.reminders.next_due_at() is None
    soon = store.reminders.add(draft(clock, minutes=1), clock.now)
    store.reminders.add(draft(clock, minutes=2), clock.now)
    assert store.reminders.next_due_at() == soon.due_at

    store.reminders.cancel(soon.id)

    assert store.reminders.next_due_at() == clock.now + timedelta(minutes=2)


def test_unknown_reminder_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="no reminder 42"):
        store.reminders.get(42)
