import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

from pushdesk.domain import Delivered, ReminderStatus
from pushdesk.events import Event, EventHub, ReminderSent, SubscriptionsChanged
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.store.db import to_db_time
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble


def subscribe(
    services: Services, push_service: PushServiceDouble, count: int = 1
) -> list:
    from pushdesk.validation import parse_subscription

    browsers = [push_service.new_subscription() for _ in range(count)]
    for browser in browsers:
        services.subscriptions.register(
            parse_subscription(browser.to_json(), [push_service.origin])
        )
    return browsers


async def test_reminder_fires_at_its_second_and_not_before(
    scheduler: Scheduler,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    reminder = services.reminders.schedule(
        "T", "Meeting", None, clock.now + timedelta(seconds=30)
    )

    clock.advance(seconds=29)
    assert await scheduler.fire_due() == []
    assert push_service.received == []

    clock.advance(seconds=1)
    [report] = await scheduler.fire_due()

    assert report.reminder_id == reminder.id
    assert report.delivered == 1
    sent = services.reminders.get(reminder.id)
    assert sent.status is ReminderStatus.SENT
    assert sent.sent_at == clock.now
    assert push_service.received[0].json()["body"] == "Meeting"


async def test_every_subscription_gets_it_and_each_attempt_is_recorded(
    scheduler: Scheduler,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=3)
    reminder = services.reminders.schedule("T", "All hands", None, clock.now)

    await scheduler.fire_due()

    assert len(push_service.received) == 3
    deliveries = store.deliveries.for_reminder(reminder.id)
    assert [d.outcome for d in deliveries] == ["delivered"] * 3
    assert {d.subscription_id for d in deliveries} == {
        s.id for s in store.subscriptions.all()
    }


async def test_gone_subscription_is_removed_and_others_still_get_it(
    scheduler: Scheduler,
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    gone, kept = subscribe(services, push_service, count=2)
    push_service.respond_with(gone, 410)
    events: list[Event] = []
    hub.subscribe(events.append)
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    [report] = await scheduler.fire_due()

    assert (report.delivered, report.gone) == (1, 1)
    assert [s.endpoint for s in store.subscriptions.all()] == [kept.endpoint]
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT
    assert any(isinstance(e, SubscriptionsChanged) for e in events)


async def test_reminder_fails_when_no_device_took_it(
    scheduler: Scheduler,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    [browser] = subscribe(services, push_service)
    push_service.respond_with(browser, 500)
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    await scheduler.fire_due()

    assert services.reminders.get(reminder.id).status is ReminderStatus.FAILED
    [delivery] = store.deliveries.for_reminder(reminder.id)
    assert (delivery.outcome, delivery.status_code) == ("failed", 500)
    assert len(store.subscriptions.all()) == 1


async def test_reminder_with_no_devices_is_sent_to_nobody(
    scheduler: Scheduler, services: Services, clock: FakeClock
) -> None:
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    [report] = await scheduler.fire_due()

    assert report.total == 0
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT


async def test_cancelled_reminder_is_never_sent(
    scheduler: Scheduler,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    services.reminders.cancel(reminder.id)

    assert await scheduler.fire_due() == []
    assert push_service.received == []


async def test_reminder_written_by_another_process_is_sent(
    scheduler: Scheduler,
    services: Services,
    clock: FakeClock,
    data_dir: Path,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    other = Store.open(data_dir / "pushdesk.db")
    Services(other, EventHub(), clock).reminders.schedule(
        "T", "From CLI", None, clock.now
    )
    other.close()

    [report] = await scheduler.fire_due()

    assert report.delivered == 1
    assert push_service.received[0].json()["body"] == "From CLI"


async def test_reminders_missed_while_off_are_sent_once(
    scheduler: Scheduler,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    services.reminders.schedule("T", "While you were out", None, clock.now)
    clock.advance(hours=3)

    first = await scheduler.fire_due()
    second = await scheduler.fire_due()

    assert len(first) == 1
    assert second == []
    assert len(push_service.received) == 1


async def test_a_reminder_claimed_elsewhere_is_left_alone(
    scheduler: Scheduler,
    services: Services,
    clock: FakeClock,
    data_dir: Path,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    rival = sqlite3.connect(data_dir / "pushdesk.db")
    with rival:
        rival.execute(
            "UPDATE reminders SET status = 'sending', claimed_by = 'rival', "
            "claimed_at = ? WHERE id = ?",
            [to_db_time(clock.now), reminder.id],
        )
    rival.close()

    assert await scheduler.fire_due() == []
    assert push_service.received == []


async def test_sent_event_carries_counts_and_time(
    scheduler: Scheduler,
    services: Services,
    hub: EventHub,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=2)
    sent: list[ReminderSent] = []
    hub.subscribe(lambda e: sent.append(e) if isinstance(e, ReminderSent) else None)
    reminder = services.reminders.schedule("Title", "Body", None, clock.now)

    await scheduler.fire_due()

    assert sent == [
        ReminderSent(reminder.id, clock.now, "Title", "Body", delivered=2, total=2)
    ]


async def test_run_loop_wakes_for_a_new_reminder_without_waiting_a_poll(
    scheduler: Scheduler,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    slow = Scheduler(
        scheduler._store,
        scheduler._engine,
        scheduler._hub,
        clock,
        poll_seconds=3600,
    )
    task = asyncio.create_task(slow.run())
    try:
        await asyncio.sleep(0)
        services.reminders.schedule("T", "Now", None, clock.now)
        slow.wake()

        await push_service.wait_for(1, timeout=5)
    finally:
        task.cancel()


async def test_abandoned_reminder_is_finished_without_sending_twice(
    scheduler: Scheduler,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    first, second = subscribe(services, push_service, count=2)
    reminder = services.reminders.schedule("T", "Half sent", None, clock.now)
    store.reminders.claim(reminder.id, "me", clock.now)
    [already] = [s for s in store.subscriptions.all() if s.endpoint == first.endpoint]
    store.deliveries.record(reminder.id, already, Delivered(201), clock.now)

    assert await scheduler.finish_abandoned() == []
    clock.advance(seconds=61)

    [report] = await scheduler.finish_abandoned()

    assert [p.endpoint for p in push_service.received] == [second.endpoint]
    assert (report.delivered, report.total) == (2, 2)
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT
    assert len(store.deliveries.for_reminder(reminder.id)) == 2


async def test_stop_lets_the_reminder_being_sent_finish(
    scheduler: Scheduler,
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=3)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    claimed = asyncio.Event()
    hub.subscribe(lambda _event: claimed.set())
    task = asyncio.create_task(scheduler.run())
    await asyncio.wait_for(claimed.wait(), timeout=10)
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENDING

    scheduler.request_stop()
    await asyncio.wait_for(task, timeout=10)

    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT
    assert len(store.deliveries.for_reminder(reminder.id)) == 3


async def test_a_live_claim_is_renewed_and_never_taken_over(
    scheduler: Scheduler,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    store.reminders.claim(reminder.id, "other-process", clock.now)

    clock.advance(seconds=50)
    store.reminders.keep_claim(reminder.id, "other-process", clock.now)
    clock.advance(seconds=50)

    assert await scheduler.finish_abandoned() == []
    assert push_service.received == []
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENDING


async def test_a_damaged_row_is_set_aside_and_the_rest_are_sent(
    scheduler: Scheduler,
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    data_dir: Path,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    broken = sqlite3.connect(data_dir / "pushdesk.db")
    with broken:
        broken.execute(
            "INSERT INTO reminders (title, message, due_at, status, created_at) "
            "VALUES ('x', 'y', '2026-01-01T99:99', 'scheduled', 'never')"
        )
    broken.close()
    reminder = services.reminders.schedule("T", "Still works", None, clock.now)
    task = asyncio.create_task(scheduler.run())
    try:
        [push] = await push_service.wait_for(1, timeout=10)
    finally:
        scheduler.request_stop()
        await asyncio.wait_for(task, timeout=5)

    assert push.json()["id"] == reminder.id
    statuses = store.db.execute("SELECT status FROM reminders ORDER BY id").fetchall()
    assert statuses == [("failed",), ("sent",)]
