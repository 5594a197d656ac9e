"""Firing: on time, once, from the database, through downtime and DST."""

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pushdesk.domain import ReminderStatus
from pushdesk.events import Event, EventHub, ReminderSent
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.recurrence import parse_rule
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from pushdesk.store import Store
from tests.scheduling.conftest import subscribe
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble
from tests.support.sending import run_due


async def test_reminder_fires_at_its_second_and_not_before(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    reminder = services.reminders.schedule(
        "T", "Meeting", None, clock.now + timedelta(seconds=30)
    )

    clock.advance(seconds=29)
    await run_due(scheduler, engine)
    assert push_service.received == []

    clock.advance(seconds=1)
    await run_due(scheduler, engine)

    sent = services.reminders.get(reminder.id)
    assert sent.status is ReminderStatus.SENT
    assert sent.sent_at == clock.now
    assert push_service.received[0].json()["body"] == "Meeting"


async def test_every_subscription_gets_it_once_and_each_attempt_is_recorded(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=3)
    reminder = services.reminders.schedule("T", "All hands", None, clock.now)

    await run_due(scheduler, engine)
    await run_due(scheduler, engine)

    assert len(push_service.received) == 3
    tags = {push.json()["tag"] for push in push_service.received}
    assert tags == {f"pushdesk-reminder-{reminder.id}"}
    deliveries = store.deliveries.for_reminder(reminder.id)
    assert [d.outcome for d in deliveries] == ["delivered"] * 3


async def test_reminder_with_no_devices_is_closed_with_a_warning(
    scheduler: Scheduler, engine: DeliveryEngine, services: Services, clock: FakeClock
) -> None:
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    await run_due(scheduler, engine)

    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT


async def test_cancelled_reminder_is_never_sent(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    services.reminders.cancel(reminder.id)

    await run_due(scheduler, engine)

    assert push_service.received == []


async def test_reminder_written_by_another_process_is_sent(
    scheduler: Scheduler,
    engine: DeliveryEngine,
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

    await run_due(scheduler, engine)

    assert push_service.received[0].json()["body"] == "From CLI"


async def test_two_schedulers_on_one_database_fire_a_reminder_once(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    data_dir: Path,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=2)
    services.reminders.schedule("T", "Once", None, clock.now)
    other_store = Store.open(data_dir / "pushdesk.db")
    rival = Scheduler(other_store, engine, hub, clock)

    fired = scheduler.fire_due() + rival.fire_due()
    await engine.drain()
    other_store.close()

    assert len(fired) == 1
    assert len(push_service.received) == 2


def sent_events(events: list[Event]) -> list[ReminderSent]:
    return [event for event in events if isinstance(event, ReminderSent)]


async def test_sent_event_carries_counts_time_and_devices(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    events: list[Event],
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=2)
    devices = frozenset(device.id for device in store.subscriptions.all())
    reminder = services.reminders.schedule("Title", "Body", None, clock.now)

    await run_due(scheduler, engine)

    assert sent_events(events) == [
        ReminderSent(
            reminder.id,
            clock.now,
            "Title",
            "Body",
            delivered=2,
            total=2,
            devices=devices,
        )
    ]


async def test_sent_event_counts_failures_apart_from_devices_found_gone(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    events: list[Event],
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    _ok, gone, bad = subscribe(services, push_service, count=3)
    ok_id, _gone_id, bad_id = (device.id for device in store.subscriptions.all())
    push_service.respond_with(gone, 410)
    push_service.respond_with(bad, 400)
    services.reminders.schedule("Title", "Body", None, clock.now)

    await run_due(scheduler, engine)

    [event] = sent_events(events)
    assert (event.delivered, event.failed, event.total) == (1, 1, 3)
    # The devices still subscribed that it was sent to: the gone one's row is
    # removed, and with it anything its open pages might have heard.
    assert event.devices == {ok_id, bad_id}


async def test_a_damaged_row_is_set_aside_and_the_rest_are_sent(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    data_dir: Path,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    broken = sqlite3.connect(data_dir / "pushdesk.db")
    with broken:
        broken.execute(
            "INSERT INTO reminders (title, message, due_at, status, created_at, "
            "ttl, urgency) VALUES ('x', 'y', '2026-01-01T99:99', 'scheduled', "
            "'never', 60, 'normal')"
        )
    broken.close()
    reminder = services.reminders.schedule("T", "Still works", None, clock.now)

    await run_due(scheduler, engine)

    assert push_service.received[0].json()["id"] == reminder.id
    statuses = store.db.execute("SELECT status FROM reminders ORDER BY id").fetchall()
    assert statuses == [("failed",), ("sent",)]


class TestDowntime:
    """pushdesk stopped from 09:00 to 10:00."""

    async def test_a_one_shot_due_at_0910_goes_out_once_late_and_the_recurring_once(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        subscribe(services, push_service)
        nine = clock.now.replace(hour=9, minute=0)
        clock.now = nine
        one_shot = services.reminders.schedule(
            "T", "At 9:10", None, nine + timedelta(minutes=10)
        )
        every = parse_rule("every 15m", "Europe/Berlin")
        recurring = services.reminders.schedule(
            "T", "Quarterly", None, nine + timedelta(minutes=15), repeat=every
        )

        clock.now = nine + timedelta(hours=1)
        await run_due(scheduler, engine)
        await run_due(scheduler, engine)

        bodies = sorted(push.json()["body"] for push in push_service.received)
        assert bodies == ["At 9:10", "Quarterly"]
        late = services.reminders.get(one_shot.id)
        assert (late.status, late.late) == (ReminderStatus.SENT, True)
        again = services.reminders.get(recurring.id)
        assert again.status is ReminderStatus.SCHEDULED
        assert again.due_at == nine + timedelta(hours=1, minutes=15)

    async def test_half_a_minute_late_is_marked_late(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        subscribe(services, push_service)
        reminder = services.reminders.schedule("T", "M", None, clock.now)

        clock.advance(seconds=30)
        await run_due(scheduler, engine)

        assert services.reminders.get(reminder.id).late is True

    async def test_a_one_shot_older_than_the_maximum_lateness_is_missed(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        subscribe(services, push_service)
        reminder = services.reminders.schedule("T", "Too late", None, clock.now)

        clock.advance(hours=1, seconds=1)
        await run_due(scheduler, engine)

        assert services.reminders.get(reminder.id).status is ReminderStatus.MISSED
        assert push_service.received == []


class TestRecurrence:
    async def test_daily_2100_berlin_follows_the_wall_clock_across_october_dst(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        subscribe(services, push_service)
        clock.now = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
        first = datetime(2026, 10, 15, 19, 0, tzinfo=UTC)  # 21:00 CEST
        services.reminders.schedule(
            "T", "Evening", None, first, repeat=parse_rule("daily", "Europe/Berlin")
        )

        fired = []
        for _ in range(12):
            reminder = services.reminders.all()[0]
            clock.now = reminder.due_at
            await run_due(scheduler, engine)
            fired.append(reminder.due_at)

        assert datetime(2026, 10, 24, 19, 0, tzinfo=UTC) in fired
        assert datetime(2026, 10, 26, 20, 0, tzinfo=UTC) in fired  # 21:00 CET
        assert len(push_service.received) == 12
        occurrences = store.db.execute(
            "SELECT count(DISTINCT occurrence_at) FROM deliveries"
        ).fetchone()[0]
        assert occurrences == 12

    async def test_send_now_on_a_repeating_reminder_keeps_its_schedule(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        subscribe(services, push_service)
        due = clock.now + timedelta(hours=3)
        reminder = services.reminders.schedule(
            "T", "M", None, due, repeat=parse_rule("daily", "UTC")
        )

        services.reminders.send_now(reminder.id)
        await run_due(scheduler, engine)

        assert len(push_service.received) == 1
        assert services.reminders.get(reminder.id).due_at == due
