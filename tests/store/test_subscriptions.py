from pushdesk.domain import Gone, ReminderDraft, SubscriptionInput
from pushdesk.store import Store
from pushdesk.store.sends import Settlement
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH


def device(
    endpoint: str = "https://fcm.googleapis.com/fcm/send/abc", **extra: str
) -> SubscriptionInput:
    return SubscriptionInput(endpoint=endpoint, p256dh=P256DH, auth=AUTH, **extra)


def test_first_post_creates_a_row(store: Store, clock: FakeClock) -> None:
    stored, created = store.subscriptions.upsert(device(label="Anna"), clock.now)

    assert created is True
    assert stored.label == "Anna"
    assert stored.created_at == stored.last_seen_at == clock.now


def test_repost_updates_keys_and_last_seen_without_duplicating(
    store: Store, clock: FakeClock
) -> None:
    first, _ = store.subscriptions.upsert(device(label="Anna"), clock.now)
    clock.advance(hours=1)

    again, created = store.subscriptions.upsert(device(), clock.now)

    assert created is False
    assert again.id == first.id
    assert again.label == "Anna"
    assert again.created_at == first.created_at
    assert again.last_seen_at == clock.now
    assert len(store.subscriptions.all()) == 1


def test_delete_by_endpoint_returns_the_removed_row(
    store: Store, clock: FakeClock
) -> None:
    stored, _ = store.subscriptions.upsert(device(), clock.now)

    assert store.subscriptions.delete_endpoint(stored.endpoint) == stored
    assert store.subscriptions.delete_endpoint(stored.endpoint) is None
    assert store.subscriptions.all() == []


def test_deliveries_outlive_the_subscription(store: Store, clock: FakeClock) -> None:
    reminder = store.reminders.add(ReminderDraft("t", "m", None, clock.now), clock.now)
    sub, _ = store.subscriptions.upsert(device(), clock.now)
    store.reminders.fire(reminder, [sub.id], clock.now, late=False, next_due=None)
    [job] = store.sends.claim_ready("me", clock.now, limit=1)

    store.sends.settle([Settlement(job, Gone(410), "gone")], clock.now)

    assert store.subscriptions.all() == []
    [delivery] = store.deliveries.for_reminder(reminder.id)
    assert (delivery.outcome, delivery.status_code) == ("gone", 410)
    assert delivery.endpoint_host == "fcm.googleapis.com"
    assert delivery.subscription_id == sub.id


def test_short_endpoint_hides_the_token(store: Store, clock: FakeClock) -> None:
    stored, _ = store.subscriptions.upsert(device(), clock.now)

    assert stored.short_endpoint.startswith("fcm.googleapis.com#")
    assert "abc" not in stored.short_endpoint
