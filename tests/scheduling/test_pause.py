"""Pausing all sending: nothing fires or goes out until the operator resumes."""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from pushdesk.domain import ReminderStatus
from pushdesk.events import Event, EventHub, SendingPaused
from pushdesk.scheduling import delivery
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from pushdesk.services.sending import SendingControl
from pushdesk.store import Store
from tests.scheduling.conftest import subscribe
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble
from tests.support.sending import run_due


async def until(condition: Callable[[], bool], seconds: float = 5) -> None:
    """Let the loop run until the condition holds, within a bound."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "it never happened"
        await asyncio.sleep(0.01)


class TestTheSwitch:
    def test_it_starts_off_and_pause_and_resume_turn_it(
        self, services: Services
    ) -> None:
        assert services.sending.paused is False

        services.sending.pause()
        assert services.sending.paused is True

        services.sending.resume()
        assert services.sending.paused is False

    def test_each_change_is_published_once(self, services: Services) -> None:
        events: list[Event] = []
        services.hub.subscribe(events.append)

        services.sending.pause()
        services.sending.pause()
        services.sending.resume()
        services.sending.resume()

        assert events == [SendingPaused(True), SendingPaused(False)]

    def test_it_survives_a_restart(self, services: Services, data_dir: Path) -> None:
        services.sending.pause()

        reopened = Store.open(data_dir / "pushdesk.db")
        try:
            assert SendingControl(reopened, EventHub()).paused is True
        finally:
            reopened.close()


class TestScheduler:
    async def test_nothing_fires_while_paused_and_it_goes_out_late_on_resume(
        self,
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
        services.sending.pause()

        clock.advance(minutes=10)
        await run_due(scheduler, engine)

        assert push_service.received == []
        assert services.reminders.get(reminder.id).status is ReminderStatus.SCHEDULED

        services.sending.resume()
        await run_due(scheduler, engine)

        sent = services.reminders.get(reminder.id)
        assert sent.status is ReminderStatus.SENT
        assert sent.late is True
        assert [p.json()["body"] for p in push_service.received] == ["Meeting"]

    async def test_a_one_shot_paused_past_the_maximum_lateness_is_missed(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        subscribe(services, push_service)
        reminder = services.reminders.schedule("T", "Too late", None, clock.now)
        services.sending.pause()
        await run_due(scheduler, engine)

        clock.advance(hours=1, seconds=1)
        services.sending.resume()
        await run_due(scheduler, engine)

        assert services.reminders.get(reminder.id).status is ReminderStatus.MISSED
        assert push_service.received == []

    async def test_a_pause_by_another_process_holds_this_one(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        clock: FakeClock,
        data_dir: Path,
        push_service: PushServiceDouble,
    ) -> None:
        subscribe(services, push_service)
        reminder = services.reminders.schedule("T", "M", None, clock.now)
        other = Store.open(data_dir / "pushdesk.db")
        try:
            SendingControl(other, EventHub()).pause()
            await run_due(scheduler, engine)
            assert services.reminders.get(reminder.id).status is (
                ReminderStatus.SCHEDULED
            )

            SendingControl(other, EventHub()).resume()
            await run_due(scheduler, engine)
        finally:
            other.close()

        assert services.reminders.get(reminder.id).status is ReminderStatus.SENT
        assert len(push_service.received) == 1

    async def test_resume_wakes_a_scheduler_waiting_out_its_poll(
        self,
        store: Store,
        engine: DeliveryEngine,
        hub: EventHub,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        subscribe(services, push_service)
        reminder = services.reminders.schedule("T", "M", None, clock.now)
        services.sending.pause()
        scheduler = Scheduler(store, engine, hub, clock, poll_seconds=3600)
        running = asyncio.create_task(scheduler.run())
        try:
            await asyncio.sleep(0.05)
            assert services.reminders.get(reminder.id).status is (
                ReminderStatus.SCHEDULED
            )

            services.sending.resume()
            await until(
                lambda: (
                    services.reminders.get(reminder.id).status is ReminderStatus.SENDING
                )
            )
        finally:
            scheduler.request_stop()
            await running


class TestDeliveryEngine:
    async def test_queued_sends_and_retries_wait_while_paused(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        steady, flaky = subscribe(services, push_service, count=2)
        push_service.respond_with(flaky, 503, times=1)
        reminder = services.reminders.schedule("T", "M", None, clock.now)
        await run_due(scheduler, engine)
        assert [p.endpoint for p in push_service.received] == [steady.endpoint]

        services.sending.pause()
        clock.advance(minutes=10)
        attempts = await engine.drain()

        assert attempts == 0
        assert len(push_service.received) == 1
        assert services.reminders.get(reminder.id).status is ReminderStatus.SENDING

        services.sending.resume()
        await run_due(scheduler, engine)

        assert [p.endpoint for p in push_service.received] == [
            steady.endpoint,
            flaky.endpoint,
        ]
        assert services.reminders.get(reminder.id).status is ReminderStatus.SENT

    async def test_resume_wakes_an_engine_waiting_out_its_poll(
        self,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        clock: FakeClock,
        push_service: PushServiceDouble,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(delivery, "POLL_SECONDS", 3600)
        subscribe(services, push_service)
        services.reminders.schedule("T", "M", None, clock.now)
        scheduler.fire_due()
        services.sending.pause()
        running = asyncio.create_task(engine.run())
        try:
            await asyncio.sleep(0.05)
            assert push_service.received == []

            services.sending.resume()
            await until(lambda: len(push_service.received) == 1)
        finally:
            engine.request_stop()
            await running
