from datetime import timedelta

import pytest

from pushdesk.domain import ReminderDraft, ReminderStatus
from pushdesk.errors import NotFound
from pushdesk.store import Store
from tests.support.clock import FakeClock


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


def test_claim_succeeds_once(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(draft(clock), clock.now)

    assert store.reminders.claim(reminder.id, "me", clock.now) is True
    assert store.reminders.claim(reminder.id, "me", clock.now) is False
    assert store.reminders.get(reminder.id).status is ReminderStatus.SENDING


def test_only_scheduled_reminders_can_be_cancelled(
    store: Store, clock: FakeClock
) -> None:
    reminder = store.reminders.add(draft(clock), clock.now)
    store.reminders.claim(reminder.id, "me", clock.now)

    assert store.reminders.cancel(reminder.id) is False
    assert store.reminders.get(reminder.id).status is ReminderStatus.SENDING


def test_finish_records_status_and_sent_time(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(draft(clock), clock.now)

    store.reminders.finish(reminder.id, ReminderStatus.SENT, clock.advance(seconds=3))

    finished = store.reminders.get(reminder.id)
    assert finished.status is ReminderStatus.SENT
    assert finished.sent_at == clock.now


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
