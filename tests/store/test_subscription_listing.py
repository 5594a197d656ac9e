"""The devices listing: filters, orders, pages and failure counts, all in SQL."""

from collections.abc import Sequence
from datetime import timedelta

import pytest

from pushdesk.devices import DeviceQuery, DeviceSort, DeviceStatus, Staleness
from pushdesk.domain import (
    CredentialsRefused,
    Delivered,
    Failed,
    Outcome,
    Rejected,
    ReminderDraft,
    RetryLater,
    Subscription,
    SubscriptionInput,
    outcome_name,
)
from pushdesk.store import Store
from pushdesk.store.deliveries import DeliveryQuery
from pushdesk.store.sends import Settlement
from tests.store.test_delivery_listing import caught_sql
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH

DEFAULT = Staleness()


def add(
    store: Store,
    clock: FakeClock,
    name: str | None = None,
    *,
    user_agent: str | None = None,
    groups: Sequence[str] | None = None,
) -> Subscription:
    number = len(store.subscriptions.all()) + 1
    subscription = SubscriptionInput(
        endpoint=f"https://push.example.net/send/{number}",
        p256dh=P256DH,
        auth=AUTH,
        label=name,
        user_agent=user_agent,
    )
    stored, _ = store.subscriptions.upsert(subscription, clock.now, groups)
    return stored


def attempt(
    store: Store, clock: FakeClock, devices: Sequence[Subscription], outcome: Outcome
) -> None:
    """One real send to each device, settled with ``outcome``."""
    draft = ReminderDraft("t", "m", None, clock.now)
    reminder = store.reminders.add(draft, clock.now)
    ids = [device.id for device in devices]
    store.reminders.fire(reminder, ids, clock.now, late=False, next_due=None)
    jobs = store.sends.claim_ready("test", clock.now, limit=len(ids))
    state = outcome_name(outcome)
    store.sends.settle([Settlement(job, outcome, state) for job in jobs], clock.now)


def listed(
    store: Store, clock: FakeClock, query: DeviceQuery, offset: int = 0, limit: int = 50
) -> list[str | None]:
    quiet_before = DEFAULT.quiet_before(clock.now)
    found = store.subscriptions.listing(query, quiet_before, offset, limit)
    return [device.label for device in found]


def counted(store: Store, clock: FakeClock, query: DeviceQuery) -> int:
    return store.subscriptions.listing_count(query, DEFAULT.quiet_before(clock.now))


class TestOrder:
    def test_by_creation_with_the_id_breaking_ties(
        self, store: Store, clock: FakeClock
    ) -> None:
        for name in ("c", "a", "b"):
            add(store, clock, name)
        clock.advance(minutes=1)
        add(store, clock, "later")

        assert listed(store, clock, DeviceQuery()) == ["c", "a", "b", "later"]
        assert listed(store, clock, DeviceQuery(descending=True)) == [
            "later",
            "b",
            "a",
            "c",
        ]

    def test_by_name_ignores_case(self, store: Store, clock: FakeClock) -> None:
        for name in ("banana", "Apple", "cherry"):
            add(store, clock, name)

        query = DeviceQuery(sort=DeviceSort.LABEL)

        assert listed(store, clock, query) == ["Apple", "banana", "cherry"]

    def test_by_last_seen_puts_a_device_that_came_back_last(
        self, store: Store, clock: FakeClock
    ) -> None:
        first = add(store, clock, "first")
        add(store, clock, "second")
        clock.advance(hours=2)
        store.subscriptions.upsert(
            SubscriptionInput(first.endpoint, P256DH, AUTH), clock.now
        )

        query = DeviceQuery(sort=DeviceSort.LAST_SEEN)

        assert listed(store, clock, query) == ["second", "first"]

    def test_pages_neither_repeat_nor_skip_devices_with_equal_times(
        self, store: Store, clock: FakeClock
    ) -> None:
        names = [f"d{n:02}" for n in range(25)]
        for name in names:
            add(store, clock, name)

        for query in (DeviceQuery(), DeviceQuery(descending=True)):
            pages = [listed(store, clock, query, offset, 10) for offset in (0, 10, 20)]
            assert [len(page) for page in pages] == [10, 10, 5]
            assert sorted(name for page in pages for name in page) == names


class TestFilter:
    def test_text_is_found_in_the_name_or_the_browser_whatever_the_case(
        self, store: Store, clock: FakeClock
    ) -> None:
        add(store, clock, "Kitchen tablet", user_agent="Mozilla/5.0 Firefox/128.0")
        add(store, clock, "Anna's phone", user_agent="Mozilla/5.0 Chrome/120.0")
        add(store, clock, None, user_agent=None)

        assert listed(store, clock, DeviceQuery(text="KITCHEN")) == ["Kitchen tablet"]
        assert listed(store, clock, DeviceQuery(text="chrome")) == ["Anna's phone"]
        assert counted(store, clock, DeviceQuery(text="mozilla")) == 2

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("50%", ["50% off"]), ("a_b", ["a_b"]), ("x\\y", ["x\\y"])],
    )
    def test_wildcards_in_the_text_match_only_themselves(
        self, store: Store, clock: FakeClock, text: str, expected: list[str]
    ) -> None:
        for name in ("50% off", "500 off", "a_b", "axb", "x\\y", "xy"):
            add(store, clock, name)

        assert listed(store, clock, DeviceQuery(text=text)) == expected

    def test_group_ignores_case(self, store: Store, clock: FakeClock) -> None:
        add(store, clock, "in", groups=["Kitchen", "Office"])
        add(store, clock, "out", groups=["Office"])
        add(store, clock, "none")

        assert listed(store, clock, DeviceQuery(group="kitchen")) == ["in"]
        assert counted(store, clock, DeviceQuery(group="OFFICE")) == 2

    def test_rows_carry_their_groups(self, store: Store, clock: FakeClock) -> None:
        add(store, clock, "in", groups=["Office", "kitchen"])

        [found] = store.subscriptions.listing(DeviceQuery(), clock.now, 0, 10)

        assert found.groups == ("kitchen", "Office")

    def test_status_follows_last_seen_and_refused_credentials(
        self, store: Store, clock: FakeClock
    ) -> None:
        old = add(store, clock, "old")
        old_refused = add(store, clock, "old refused")
        clock.advance(days=30)
        add(store, clock, "recent")
        refused = add(store, clock, "refused")
        attempt(store, clock, [refused, old_refused], CredentialsRefused(403, "no"))
        clock.advance(days=31)

        def having(status: DeviceStatus) -> list[str | None]:
            return listed(store, clock, DeviceQuery(status=status))

        assert old.last_seen_at < DEFAULT.quiet_before(clock.now)
        assert having(DeviceStatus.EXPIRED) == ["old"]
        assert having(DeviceStatus.FLAGGED) == ["old refused", "refused"]
        assert having(DeviceStatus.ACTIVE) == ["recent"]
        assert counted(store, clock, DeviceQuery(status=DeviceStatus.FLAGGED)) == 2

    def test_a_device_seen_exactly_at_the_limit_is_still_active(
        self, store: Store, clock: FakeClock
    ) -> None:
        add(store, clock, "edge")
        clock.advance(days=60)

        assert listed(store, clock, DeviceQuery(status=DeviceStatus.ACTIVE)) == ["edge"]
        clock.advance(seconds=1)
        assert listed(store, clock, DeviceQuery(status=DeviceStatus.EXPIRED)) == [
            "edge"
        ]

    def test_filters_combine(self, store: Store, clock: FakeClock) -> None:
        add(store, clock, "Kitchen old", groups=["home"])
        clock.advance(days=61)
        add(store, clock, "Kitchen new", groups=["home"])
        add(store, clock, "Kitchen elsewhere")

        query = DeviceQuery(text="kitchen", group="home", status=DeviceStatus.ACTIVE)

        assert listed(store, clock, query) == ["Kitchen new"]
        assert counted(store, clock, query) == 1

    def test_a_warned_device_is_listed_as_warned_only(
        self, store: Store, clock: FakeClock
    ) -> None:
        warned = add(store, clock, "warned")
        add(store, clock, "expired")
        clock.advance(days=30)
        add(store, clock, "active")
        clock.advance(days=31)
        store.subscriptions.mark_warned([warned.id], clock.now)

        def having(status: DeviceStatus) -> list[str | None]:
            return listed(store, clock, DeviceQuery(status=status))

        assert having(DeviceStatus.WARNED) == ["warned"]
        assert having(DeviceStatus.EXPIRED) == ["expired"]
        assert having(DeviceStatus.ACTIVE) == ["active"]
        assert counted(store, clock, DeviceQuery(status=DeviceStatus.WARNED)) == 1


class TestQuietDevices:
    def test_quiet_devices_not_yet_warned_nor_flagged_are_found(
        self, store: Store, clock: FakeClock
    ) -> None:
        old = add(store, clock, "old")
        warned = add(store, clock, "warned")
        refused = add(store, clock, "refused")
        attempt(store, clock, [refused], CredentialsRefused(403, "no"))
        clock.advance(days=1)
        add(store, clock, "recent")
        store.subscriptions.mark_warned([warned.id], clock.now)

        assert store.subscriptions.quiet_unwarned(clock.now, 10) == [old.id]

    def test_warned_at_is_given_for_the_warned_devices_asked_for(
        self, store: Store, clock: FakeClock
    ) -> None:
        first = add(store, clock, "first")
        second = add(store, clock, "second")
        other = add(store, clock, "other")
        assert store.subscriptions.mark_warned([first.id, other.id], clock.now) == 2

        found = store.subscriptions.warned_at([first.id, second.id])

        assert found == {first.id: clock.now}
        assert store.subscriptions.warned_at([]) == {}

    def test_removal_takes_those_warned_before_the_moment_and_keeps_the_log(
        self, store: Store, clock: FakeClock
    ) -> None:
        early = add(store, clock, "early", groups=["home"])
        attempt(store, clock, [early], Delivered(201))
        store.subscriptions.mark_warned([early.id], clock.now)
        clock.advance(hours=1)
        late = add(store, clock, "late")
        store.subscriptions.mark_warned([late.id], clock.now)

        removed = store.subscriptions.remove_warned(clock.now, 10)

        assert [device.label for device in removed] == ["early"]
        assert removed[0].groups == ("home",)
        assert [d.label for d in store.subscriptions.all()] == ["late"]
        log = DeliveryQuery(subscription_id=early.id)
        assert store.deliveries.count(log) == 1

    def test_a_repost_clears_the_warning(self, store: Store, clock: FakeClock) -> None:
        device = add(store, clock, "phone")
        store.subscriptions.mark_warned([device.id], clock.now)
        clock.advance(minutes=5)

        store.subscriptions.upsert(
            SubscriptionInput(device.endpoint, P256DH, AUTH), clock.now
        )

        assert store.subscriptions.warned_at([device.id]) == {}
        later = clock.now + timedelta(days=99)
        assert store.subscriptions.remove_warned(later, 10) == []

    def test_both_take_at_most_the_limit_oldest_first(
        self, store: Store, clock: FakeClock
    ) -> None:
        devices = [add(store, clock, f"d{n}") for n in range(5)]
        ids = [device.id for device in devices]
        clock.advance(days=1)

        assert store.subscriptions.quiet_unwarned(clock.now, 3) == ids[:3]
        store.subscriptions.mark_warned(ids, clock.now)
        removed = store.subscriptions.remove_warned(clock.now + timedelta(days=1), 3)
        assert [device.id for device in removed] == ids[:3]
        assert [device.id for device in store.subscriptions.all()] == ids[3:]

    def test_the_longest_quiet_and_earliest_warned_go_first(
        self, store: Store, clock: FakeClock
    ) -> None:
        first, second = add(store, clock, "first"), add(store, clock, "second")
        clock.advance(hours=1)
        store.subscriptions.upsert(
            SubscriptionInput(first.endpoint, P256DH, AUTH), clock.now
        )
        clock.advance(days=1)

        assert store.subscriptions.quiet_unwarned(clock.now, 1) == [second.id]
        store.subscriptions.mark_warned([first.id], clock.now)
        store.subscriptions.mark_warned([second.id], clock.now + timedelta(hours=1))
        later = clock.now + timedelta(days=1)
        assert [d.id for d in store.subscriptions.remove_warned(later, 1)] == [first.id]

    @pytest.mark.parametrize(
        ("sql", "index"),
        [
            ("quiet_unwarned", "subscriptions_seen"),
            ("remove_warned", "subscriptions_warned"),
        ],
    )
    def test_hygiene_finds_its_devices_on_an_index(
        self,
        store: Store,
        clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch,
        sql: str,
        index: str,
    ) -> None:
        find = getattr(store.subscriptions, sql)
        statements = caught_sql(store, monkeypatch, lambda: find(clock.now, 10))
        [(statement, values), *_] = [
            (sql, values) for sql, values in statements if sql.startswith("SELECT id")
        ]

        plan = store.db.execute("EXPLAIN QUERY PLAN " + statement, values).fetchall()

        details = " | ".join(row[-1] for row in plan)
        assert f"USING INDEX {index}" in details
        assert "TEMP B-TREE" not in details  # the order comes from the index


class TestRecentFailures:
    def test_counts_failed_and_rejected_attempts_of_the_last_week(
        self, store: Store, clock: FakeClock
    ) -> None:
        phone = add(store, clock, "phone")
        tablet = add(store, clock, "tablet")
        attempt(store, clock, [phone], Failed(None, "keys unusable"))
        clock.advance(days=2)
        attempt(store, clock, [phone, tablet], Rejected(400, "bad"))
        attempt(store, clock, [phone], Failed(500, "retries exhausted"))
        attempt(store, clock, [phone, tablet], Delivered(201))
        attempt(store, clock, [tablet], RetryLater(503, "busy"))
        clock.advance(days=5, seconds=1)  # the first failure is now 7 days old

        since = clock.now - timedelta(days=7)
        counts = store.subscriptions.recent_failures([phone.id, tablet.id], since)

        assert counts == {phone.id: 2, tablet.id: 1}

    def test_only_the_devices_asked_for_are_counted(
        self, store: Store, clock: FakeClock
    ) -> None:
        phone = add(store, clock, "phone")
        tablet = add(store, clock, "tablet")
        quiet = add(store, clock, "quiet")
        attempt(store, clock, [phone, tablet], Rejected(400, "bad"))

        since = clock.now - timedelta(days=7)

        assert store.subscriptions.recent_failures([tablet.id, quiet.id], since) == {
            tablet.id: 1
        }
        assert store.subscriptions.recent_failures([], since) == {}


class TestGroupsAndNames:
    def test_a_new_group_keeps_the_case_of_an_existing_one(
        self, store: Store, clock: FakeClock
    ) -> None:
        assert store.subscriptions.create_group("Kitchen") == "Kitchen"
        assert store.subscriptions.create_group("kitchen") == "Kitchen"
        assert store.subscriptions.group_names() == ["Kitchen"]

    def test_rename_reports_an_unknown_device(
        self, store: Store, clock: FakeClock
    ) -> None:
        device = add(store, clock, "old")

        assert store.subscriptions.rename(device.id, "new") is True
        assert store.subscriptions.rename(device.id + 1, "new") is False
        assert listed(store, clock, DeviceQuery()) == ["new"]
