"""What the operator does with devices, through SubscriptionService, and how a
device is described: browser, platform and status."""

from collections.abc import Sequence
from pathlib import Path

import pytest

from pushdesk.devices import (
    UNKNOWN_BROWSER,
    DeviceQuery,
    DeviceRow,
    DeviceStatus,
    Software,
    software_of,
)
from pushdesk.domain import (
    CredentialsRefused,
    Delivered,
    ReminderDraft,
    ReminderStatus,
    Subscription,
    SubscriptionInput,
    Target,
    outcome_name,
)
from pushdesk.errors import InvalidInput, NotFound
from pushdesk.events import Event, ReminderChanged, SubscriptionsChanged
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.store.sends import Settlement
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"
)
FIREFOX_DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
SAFARI_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"
)


def add(
    services: Services,
    name: str | None = None,
    *,
    user_agent: str | None = None,
    groups: Sequence[str] = (),
) -> Subscription:
    number = services.subscriptions.count() + 1
    subscription = SubscriptionInput(
        endpoint=f"https://push.example.net/send/{number}",
        p256dh=P256DH,
        auth=AUTH,
        label=name,
        user_agent=user_agent,
    )
    stored, _ = services.subscriptions.register(subscription)
    if groups:
        stored = services.subscriptions.set_groups(stored.id, groups)
    return stored


class TestUserAgents:
    @pytest.mark.parametrize(
        ("user_agent", "browser", "platform"),
        [
            (CHROME_ANDROID, "Chrome Mobile 124", "Android 14"),
            (FIREFOX_DESKTOP, "Firefox 128", "Windows 10"),
            (SAFARI_IOS, "Mobile Safari 17", "iOS 17.4"),
            (EDGE_WINDOWS, "Edge 124", "Windows 10"),
        ],
    )
    def test_real_browsers_are_named_with_their_platform(
        self, user_agent: str, browser: str, platform: str
    ) -> None:
        assert software_of(user_agent) == Software(browser, platform)

    @pytest.mark.parametrize("user_agent", [None, "", "no browser here"])
    def test_no_or_unreadable_user_agent_is_an_unknown_browser(
        self, user_agent: str | None
    ) -> None:
        assert software_of(user_agent).describe() == UNKNOWN_BROWSER

    def test_description_joins_browser_and_platform(self) -> None:
        assert software_of(FIREFOX_DESKTOP).describe() == "Firefox 128 on Windows 10"


class TestListing:
    def test_rows_describe_each_device(
        self, services: Services, clock: FakeClock
    ) -> None:
        add(services, "Anna", user_agent=CHROME_ANDROID, groups=["Family"])

        [row] = services.subscriptions.page(DeviceQuery(), 0, 10)

        assert row.subscription.label == "Anna"
        assert row.subscription.groups == ("Family",)
        assert row.software.describe() == "Chrome Mobile 124 on Android 14"
        assert row.status is DeviceStatus.ACTIVE
        assert row.recent_failures == 0

    def test_status_moves_with_the_clock_and_flagging(
        self, services: Services, store: Store, clock: FakeClock
    ) -> None:
        device = add(services, "Anna")
        clock.advance(days=61)

        [row] = services.subscriptions.page(DeviceQuery(), 0, 10)
        assert row.status is DeviceStatus.EXPIRED
        assert (
            services.subscriptions.count(DeviceQuery(status=DeviceStatus.EXPIRED)) == 1
        )

        _settle_one(store, clock, device, CredentialsRefused(403, "bad key"))
        [row] = services.subscriptions.page(DeviceQuery(), 0, 10)
        assert row.status is DeviceStatus.FLAGGED
        assert row.subscription.flag_reason == "403: bad key"

    def test_count_without_a_query_counts_every_device(
        self, services: Services
    ) -> None:
        add(services, "Anna")
        add(services, "Ben")

        assert services.subscriptions.count() == 2
        assert services.subscriptions.count(DeviceQuery(text="ben")) == 1

    def test_the_whole_listing_is_read_a_page_at_a_time(
        self, services: Services, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ids = [add(services, f"d{n}").id for n in range(5)]
        asked: list[tuple[int, int]] = []
        page = services.subscriptions.page

        def counted(query: DeviceQuery, offset: int, limit: int) -> list[DeviceRow]:
            asked.append((offset, limit))
            return page(query, offset, limit)

        monkeypatch.setattr(services.subscriptions, "page", counted)
        rows = services.subscriptions.every(DeviceQuery(), page_size=2)

        assert [row.subscription.id for row in rows] == ids
        assert asked == [(0, 2), (2, 2), (4, 2)]

    def test_a_device_removed_elsewhere_meanwhile_shifts_no_page(
        self,
        services: Services,
        data_dir: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        ids = [add(services, f"d{n}").id for n in range(5)]
        page = services.subscriptions.page

        def another_process_removes_the_first(
            query: DeviceQuery, offset: int, limit: int
        ) -> list[DeviceRow]:
            rows = page(query, offset, limit)
            if offset == 0:
                other = Store.open(data_dir / "pushdesk.db")
                other.subscriptions.delete(ids[0])
                other.close()
            return rows

        monkeypatch.setattr(
            services.subscriptions, "page", another_process_removes_the_first
        )
        listed = services.subscriptions.every(DeviceQuery(), page_size=2)

        # The listing as it was when it began: none missed, none twice.
        assert [row.subscription.id for row in listed] == ids
        assert [s.id for s in services.subscriptions.every(DeviceQuery())] == ids[1:]


class TestRename:
    def test_renames_and_tells_the_hub(
        self, services: Services, events: list[Event]
    ) -> None:
        device = add(services, "old")
        events.clear()

        renamed = services.subscriptions.rename(device.id, "  Kitchen   tablet ")

        assert renamed.label == "Kitchen tablet"
        assert events == [SubscriptionsChanged()]

    def test_a_hundred_characters_are_allowed(self, services: Services) -> None:
        device = add(services)

        assert services.subscriptions.rename(device.id, "x" * 100).label == "x" * 100

    @pytest.mark.parametrize(
        ("label", "message"),
        [
            ("", "The name is empty."),
            ("   ", "The name is empty."),
            ("x" * 101, "The name is longer than 100 characters."),
            ("tab\there", "The name may hold only printable text."),
        ],
    )
    def test_bad_names_are_refused_with_a_sentence(
        self, services: Services, events: list[Event], label: str, message: str
    ) -> None:
        device = add(services, "kept")
        events.clear()

        with pytest.raises(InvalidInput, match=message) as refused:
            services.subscriptions.rename(device.id, label)

        assert refused.value.field == "label"
        assert services.subscriptions.get(device.id).label == "kept"
        assert events == []

    def test_unknown_device(self, services: Services) -> None:
        with pytest.raises(NotFound, match="There is no device 7"):
            services.subscriptions.rename(7, "Kitchen")


class TestGroups:
    def test_set_groups_replaces_them_and_makes_new_ones(
        self, services: Services, events: list[Event]
    ) -> None:
        device = add(services, "Anna", groups=["Family", "Old"])
        events.clear()

        updated = services.subscriptions.set_groups(device.id, ["family", " New  one"])

        assert updated.groups == ("Family", "New one")
        assert services.subscriptions.groups() == ["Family", "New one", "Old"]
        assert events == [SubscriptionsChanged()]

    def test_create_group_returns_the_existing_spelling(
        self, services: Services, events: list[Event]
    ) -> None:
        assert services.subscriptions.create_group("Kitchen") == "Kitchen"
        assert services.subscriptions.create_group("KITCHEN") == "Kitchen"
        assert services.subscriptions.groups() == ["Kitchen"]
        assert events == [SubscriptionsChanged(), SubscriptionsChanged()]

    @pytest.mark.parametrize("name", ["", "a,b", "x" * 51, "bell\x07"])
    def test_bad_group_names_are_refused(self, services: Services, name: str) -> None:
        device = add(services, "Anna")

        with pytest.raises(InvalidInput) as refused:
            services.subscriptions.create_group(name)
        assert refused.value.field == "groups"
        with pytest.raises(InvalidInput):
            services.subscriptions.set_groups(device.id, ["fine", name])

        assert services.subscriptions.groups() == []

    def test_unknown_device_gets_no_groups_and_makes_none(
        self, services: Services
    ) -> None:
        with pytest.raises(NotFound, match="There is no device 9"):
            services.subscriptions.set_groups(9, ["Kitchen"])

        assert services.subscriptions.groups() == []


class TestRemove:
    def test_removes_the_row_and_keeps_its_deliveries(
        self,
        services: Services,
        store: Store,
        clock: FakeClock,
        events: list[Event],
    ) -> None:
        device = add(services, "Anna")
        reminder_id = _settle_one(store, clock, device, Delivered(201))
        events.clear()

        removed = services.subscriptions.remove_by_operator(device.id)

        assert removed.id == device.id
        assert services.subscriptions.count() == 0
        [delivery] = store.deliveries.for_reminder(reminder_id)
        assert delivery.subscription_id == device.id
        assert events == [SubscriptionsChanged()]

    def test_unknown_device(self, services: Services) -> None:
        with pytest.raises(NotFound, match="There is no device 3"):
            services.subscriptions.remove_by_operator(3)


class TestSendTest:
    def test_schedules_a_reminder_due_now_for_that_device_only(
        self,
        services: Services,
        store: Store,
        clock: FakeClock,
        events: list[Event],
    ) -> None:
        add(services, "other")
        device = add(services, "Anna")
        events.clear()

        reminder = services.subscriptions.send_test(device.id)

        assert reminder.target == Target(subscription_ids=(device.id,))
        assert reminder.status is ReminderStatus.SCHEDULED
        assert store.reminders.due(clock.now) == [reminder]
        assert store.subscriptions.ids_for(reminder.target) == [device.id]
        assert events == [ReminderChanged(reminder.id)]

    def test_unknown_device_schedules_nothing(
        self, services: Services, store: Store
    ) -> None:
        with pytest.raises(NotFound, match="There is no device 4"):
            services.subscriptions.send_test(4)

        assert store.reminders.all() == []


def _settle_one(
    store: Store,
    clock: FakeClock,
    device: Subscription,
    outcome: Delivered | CredentialsRefused,
) -> int:
    """Send one reminder to ``device`` through the queue; return its id."""
    added = store.reminders.add(ReminderDraft("t", "m", None, clock.now), clock.now)
    store.reminders.fire(added, [device.id], clock.now, late=False, next_due=None)
    [job] = store.sends.claim_ready("test", clock.now, limit=1)
    store.sends.settle([Settlement(job, outcome, outcome_name(outcome))], clock.now)
    return added.id
