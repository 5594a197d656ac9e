"""Subscription hygiene: last-seen refreshed by every re-post, quiet devices
warned once by a real push, removed if they stay quiet, saved if they return."""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config
from pushdesk.domain import ReminderStatus, Subscription, SubscriptionInput
from pushdesk.events import Event, EventHub, ReminderChanged, SubscriptionsChanged
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.hygiene import (
    WARNING_TITLE,
    DeviceHygiene,
    removal_date,
)
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.server.app import create_app
from pushdesk.services import Services
from pushdesk.store import Store
from tests.scheduling.conftest import subscribe
from tests.support.clock import FakeClock
from tests.support.devices import add_device
from tests.support.push_service import BrowserSubscription, PushServiceDouble
from tests.support.sending import run_due

PUBLIC_KEY = "B" + "A" * 86
SUBJECT = "mailto:ops@example.org"


@pytest.fixture
def hygiene(store: Store, hub: EventHub, clock: FakeClock) -> DeviceHygiene:
    return DeviceHygiene(store, hub, clock)


@pytest.fixture
def events(hub: EventHub) -> list[Event]:
    heard: list[Event] = []
    hub.subscribe(heard.append)
    return heard


def device_of(store: Store, browser: BrowserSubscription) -> Subscription:
    found = store.subscriptions.find(browser.endpoint)
    assert found is not None
    return found


def repost(services: Services, browser: BrowserSubscription) -> None:
    """The page loaded again on that device: it posts its subscription."""
    keys = browser.to_json()["keys"]
    services.subscriptions.register(
        SubscriptionInput(browser.endpoint, keys["p256dh"], keys["auth"])
    )


def warned_at(store: Store, browser: BrowserSubscription) -> datetime | None:
    device = device_of(store, browser)
    return store.subscriptions.warned_at([device.id]).get(device.id)


def set_days(services: Services, stale: int, removal: int) -> None:
    current = replace(services.settings.current(), vapid_subject=SUBJECT)
    services.settings.save(
        replace(current, stale_after_days=stale, remove_after_warning_days=removal)
    )


class TestLastSeen:
    @pytest_asyncio.fixture
    async def client(
        self, services: Services, push_service: PushServiceDouble
    ) -> AsyncIterator[TestClient[Any, Any]]:
        app = create_app(
            services, PUBLIC_KEY, allowed_push_origins=(push_service.origin,)
        )
        async with TestClient(TestServer(app)) as test_client:
            yield test_client

    async def test_a_repost_moves_last_seen_and_adds_no_row(
        self,
        client: TestClient[Any, Any],
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        browser = push_service.new_subscription()
        first = await client.post("/api/subscriptions", json=browser.to_json())
        created_at = clock.now
        clock.advance(days=20)

        again = await client.post("/api/subscriptions", json=browser.to_json())

        assert (first.status, again.status) == (201, 200)
        [row] = store.subscriptions.all()
        assert row.created_at == created_at
        assert row.last_seen_at == clock.now

    async def test_a_repost_voids_the_warning(
        self,
        client: TestClient[Any, Any],
        store: Store,
        clock: FakeClock,
        hygiene: DeviceHygiene,
        push_service: PushServiceDouble,
    ) -> None:
        browser = push_service.new_subscription()
        await client.post("/api/subscriptions", json=browser.to_json())
        clock.advance(days=61)
        hygiene.run_once(clock.now)
        assert warned_at(store, browser) == clock.now

        reply = await client.post("/api/subscriptions", json=browser.to_json())

        assert reply.status == 200
        assert warned_at(store, browser) is None


class TestWarning:
    async def test_a_quiet_device_gets_one_warning_push_and_is_marked(
        self,
        hygiene: DeviceHygiene,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        quiet, seen = subscribe(services, push_service, count=2)
        clock.advance(days=61)
        repost(services, seen)

        report = hygiene.run_once(clock.now)
        await run_due(scheduler, engine)

        assert report.warning is not None
        assert report.warning.target.subscription_ids == (device_of(store, quiet).id,)
        [push] = push_service.received_for(quiet)
        removal = removal_date(clock.now + timedelta(days=14))
        assert push.json()["title"] == WARNING_TITLE
        assert push.json()["body"] == (
            "Open pushdesk's page on this device to keep getting reminders; "
            f"otherwise it will be removed on {removal}."
        )
        assert push.json()["url"] is None  # the service worker opens the page
        assert push.ttl == 14 * 24 * 3600
        assert push_service.received_for(seen) == []
        assert warned_at(store, quiet) == clock.now
        assert warned_at(store, seen) is None
        sent = services.reminders.get(report.warning.id)
        assert sent.status is ReminderStatus.SENT

    async def test_a_second_pass_does_not_warn_again(
        self,
        hygiene: DeviceHygiene,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        [quiet] = subscribe(services, push_service)
        clock.advance(days=61)
        first = hygiene.run_once(clock.now)
        await run_due(scheduler, engine)
        warned = clock.now

        clock.advance(days=3)
        second = hygiene.run_once(clock.now)
        await run_due(scheduler, engine)

        assert first.warning is not None
        assert second.warning is None
        assert len(push_service.received_for(quiet)) == 1
        assert len(store.reminders.all()) == 1
        assert warned_at(store, quiet) == warned

    async def test_many_quiet_devices_share_one_warning_reminder(
        self,
        hygiene: DeviceHygiene,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        browsers = subscribe(services, push_service, count=5)
        clock.advance(days=61)

        report = hygiene.run_once(clock.now)
        await run_due(scheduler, engine)

        assert report.warning is not None
        assert report.warning.target.subscription_ids == tuple(
            device_of(store, browser).id for browser in browsers
        )
        assert [len(push_service.received_for(b)) for b in browsers] == [1] * 5
        assert len(store.reminders.all()) == 1

    def test_more_quiet_devices_than_a_batch_are_warned_over_several_passes(
        self, store: Store, hub: EventHub, services: Services, clock: FakeClock
    ) -> None:
        hygiene = DeviceHygiene(store, hub, clock, batch=2)
        ids = [add_device(services, f"d{n}") for n in range(3)]
        clock.advance(days=61)

        first = hygiene.run_once(clock.now)
        second = hygiene.run_once(clock.now)
        third = hygiene.run_once(clock.now)

        assert first.warning is not None
        assert second.warning is not None
        assert first.warning.target.subscription_ids == tuple(ids[:2])
        assert second.warning.target.subscription_ids == tuple(ids[2:])
        assert (first.more, second.more) == (True, False)
        assert third.warning is None

    def test_an_active_device_is_left_alone(
        self, hygiene: DeviceHygiene, services: Services, clock: FakeClock
    ) -> None:
        add_device(services, "phone")
        clock.advance(days=60)

        report = hygiene.run_once(clock.now)

        assert report.warning is None
        assert report.removed == ()

    def test_no_warning_while_sending_is_held(
        self,
        hygiene: DeviceHygiene,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        add_device(services, "phone")
        clock.advance(days=61)
        services.sending.pause()

        held = hygiene.run_once(clock.now)
        services.sending.resume()
        resumed = hygiene.run_once(clock.now)

        assert held.warning is None
        assert resumed.warning is not None

    def test_the_warning_is_announced_like_any_reminder(
        self,
        hygiene: DeviceHygiene,
        services: Services,
        clock: FakeClock,
        events: list[Event],
    ) -> None:
        add_device(services, "phone")
        clock.advance(days=61)
        events.clear()

        report = hygiene.run_once(clock.now)

        assert report.warning is not None
        assert ReminderChanged(report.warning.id) in events
        assert SubscriptionsChanged() in events


class TestRemoval:
    async def test_a_device_quiet_after_the_grace_is_removed_and_its_log_kept(
        self,
        hygiene: DeviceHygiene,
        scheduler: Scheduler,
        engine: DeliveryEngine,
        services: Services,
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
        events: list[Event],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        [quiet] = subscribe(services, push_service)
        device = device_of(store, quiet)
        clock.advance(days=61)
        warning = hygiene.run_once(clock.now).warning
        await run_due(scheduler, engine)
        assert warning is not None

        clock.advance(days=14)
        early = hygiene.run_once(clock.now)
        clock.advance(seconds=1)
        events.clear()
        with caplog.at_level(logging.INFO, logger="pushdesk.scheduler"):
            late = hygiene.run_once(clock.now)

        assert early.removed == ()
        assert [removed.id for removed in late.removed] == [device.id]
        assert store.subscriptions.get(device.id) is None
        [delivery] = store.deliveries.for_reminder(warning.id)
        assert (delivery.subscription_id, delivery.outcome) == (device.id, "delivered")
        assert SubscriptionsChanged() in events
        assert device.short_endpoint in caplog.text
        assert quiet.token not in caplog.text

    def test_more_warned_devices_than_a_batch_go_over_several_passes(
        self, store: Store, hub: EventHub, services: Services, clock: FakeClock
    ) -> None:
        hygiene = DeviceHygiene(store, hub, clock, batch=2)
        for n in range(3):
            add_device(services, f"d{n}")
        clock.advance(days=61)
        hygiene.run_once(clock.now)
        hygiene.run_once(clock.now)
        clock.advance(days=15)

        first = hygiene.run_once(clock.now)
        second = hygiene.run_once(clock.now)

        assert (len(first.removed), len(second.removed)) == (2, 1)
        assert (first.more, second.more) == (True, False)
        assert services.subscriptions.count() == 0

    def test_a_device_that_returns_in_between_is_kept(
        self,
        hygiene: DeviceHygiene,
        services: Services,
        store: Store,
        clock: FakeClock,
        push_service: PushServiceDouble,
    ) -> None:
        [browser] = subscribe(services, push_service)
        clock.advance(days=61)
        hygiene.run_once(clock.now)
        clock.advance(days=7)
        repost(services, browser)

        clock.advance(days=8)
        report = hygiene.run_once(clock.now)

        assert report.removed == ()
        assert report.warning is None  # seen a week ago: not quiet
        assert warned_at(store, browser) is None
        assert device_of(store, browser).last_seen_at == clock.now - timedelta(days=8)

    def test_a_flagged_device_is_left_to_the_operator(
        self,
        hygiene: DeviceHygiene,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        device_id = add_device(services, "refused")
        store.db.execute(
            "UPDATE subscriptions SET flag_reason = '403: no' WHERE id = ?",
            [device_id],
        )
        clock.advance(days=200)

        report = hygiene.run_once(clock.now)

        assert report.warning is None
        assert report.removed == ()
        assert store.subscriptions.get(device_id) is not None


class TestSettings:
    def test_fewer_quiet_days_apply_at_the_next_pass(
        self,
        hygiene: DeviceHygiene,
        services: Services,
        clock: FakeClock,
    ) -> None:
        device_id = add_device(services, "phone")
        clock.advance(days=31)
        assert hygiene.run_once(clock.now).warning is None

        set_days(services, stale=30, removal=14)
        report = hygiene.run_once(clock.now)

        assert report.warning is not None
        assert report.warning.target.subscription_ids == (device_id,)

    def test_a_longer_grace_postpones_the_removal(
        self,
        hygiene: DeviceHygiene,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        device_id = add_device(services, "phone")
        clock.advance(days=61)
        hygiene.run_once(clock.now)
        set_days(services, stale=60, removal=30)

        clock.advance(days=20)
        kept = hygiene.run_once(clock.now)
        clock.advance(days=10, seconds=1)
        removed = hygiene.run_once(clock.now)

        assert kept.removed == ()
        assert [device.id for device in removed.removed] == [device_id]
        assert store.subscriptions.get(device_id) is None

    def test_the_warning_names_the_date_the_settings_give(
        self, hygiene: DeviceHygiene, services: Services, clock: FakeClock
    ) -> None:
        add_device(services, "phone")
        set_days(services, stale=10, removal=3)
        clock.advance(days=11)

        report = hygiene.run_once(clock.now)

        assert report.warning is not None
        assert report.warning.message.endswith(
            f"removed on {removal_date(clock.now + timedelta(days=3))}."
        )
        assert report.warning.ttl == 3 * 24 * 3600

    async def test_a_change_wakes_the_running_pass_at_once(
        self,
        hygiene: DeviceHygiene,
        services: Services,
        hub: EventHub,
        clock: FakeClock,
    ) -> None:
        add_device(services, "phone")
        clock.advance(days=31)
        warned = asyncio.Event()
        hub.subscribe(
            lambda e: warned.set() if isinstance(e, ReminderChanged) else None
        )
        running = asyncio.create_task(hygiene.run())
        try:
            await asyncio.sleep(0)  # the first pass, which finds nobody quiet
            assert not warned.is_set()

            set_days(services, stale=30, removal=14)
            await asyncio.wait_for(warned.wait(), timeout=5)
        finally:
            hygiene.request_stop()
            await asyncio.wait_for(running, timeout=5)

    def test_a_hand_edited_zero_keeps_the_defaults(
        self,
        hygiene: DeviceHygiene,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        add_device(services, "phone")
        store.settings.set_many(
            {"stale_after_days": "0", "remove_after_warning_days": "0"}
        )
        clock.advance(days=59)

        report = hygiene.run_once(clock.now)

        assert report.warning is None
        assert services.subscriptions.staleness().quiet_after == timedelta(days=60)

    @pytest.mark.parametrize(
        ("stale", "removal", "field"),
        [
            (0, 14, "stale_after_days"),
            (3651, 14, "stale_after_days"),
            (60, 0, "remove_after_warning_days"),
            (60, 366, "remove_after_warning_days"),
        ],
    )
    def test_days_out_of_range_are_refused_naming_the_field(
        self, services: Services, stale: int, removal: int, field: str
    ) -> None:
        settings = replace(
            services.settings.current(),
            vapid_subject=SUBJECT,
            stale_after_days=stale,
            remove_after_warning_days=removal,
        )

        assert field in services.settings.problems(settings)


class TestRuntime:
    async def test_the_runtime_warns_at_start_and_stops_the_pass_with_itself(
        self,
        config: Config,
        push_service: PushServiceDouble,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        # Push services check VAPID expiry against real time: end on it.
        clock = FakeClock(datetime.now(UTC) - timedelta(days=61))
        runtime = Runtime(config, open_store(config), clock=clock)
        browser = push_service.new_subscription()
        repost(runtime.services, browser)
        clock.now = datetime.now(UTC)

        await runtime.start()
        try:
            [push] = await push_service.wait_for(1)
        finally:
            await asyncio.wait_for(runtime.stop(), timeout=10)

        assert push.json()["title"] == WARNING_TITLE
        assert "did not finish in time" not in caplog.text
