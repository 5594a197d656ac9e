"""What the operator does with groups and with one device's groups and name,
through SubscriptionService: the operations the command line offers."""

import pytest

from pushdesk.devices import DeviceStatus
from pushdesk.domain import ReminderStatus
from pushdesk.errors import InvalidInput, NotFound
from pushdesk.events import Event, ReminderChanged, SubscriptionsChanged
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.support.reminders import scheduled_for_groups
from tests.test_device_operations import add


class TestClearLabel:
    def test_the_name_is_gone_and_the_hub_told(
        self, services: Services, events: list[Event]
    ) -> None:
        device = add(services, "Anna")
        events.clear()

        cleared = services.subscriptions.clear_label(device.id)

        assert cleared.label is None
        assert services.subscriptions.get(device.id).label is None
        assert events == [SubscriptionsChanged()]

    def test_unknown_device(self, services: Services) -> None:
        with pytest.raises(NotFound, match="There is no device 5"):
            services.subscriptions.clear_label(5)


class TestDeviceRow:
    def test_one_device_described_as_the_listing_does(
        self, services: Services, clock: FakeClock
    ) -> None:
        device = add(services, "Anna", groups=["Family"])
        clock.advance(days=61)

        row = services.subscriptions.device_row(device.id)

        assert row.subscription == device
        assert row.status is DeviceStatus.EXPIRED
        assert row.recent_failures == 0

    def test_unknown_device(self, services: Services) -> None:
        with pytest.raises(NotFound, match="There is no device 8"):
            services.subscriptions.device_row(8)


class TestAddToGroups:
    def test_keeps_the_old_groups_and_creates_new_ones(
        self, services: Services, events: list[Event]
    ) -> None:
        services.subscriptions.create_group("Kitchen")
        device = add(services, "Anna", groups=["Family"])
        events.clear()

        updated = services.subscriptions.add_to_groups(
            device.id, ["kitchen", "family", " Night  shift "]
        )

        assert updated.groups == ("Family", "Kitchen", "Night shift")
        assert services.subscriptions.groups() == ["Family", "Kitchen", "Night shift"]
        assert events == [SubscriptionsChanged()]

    @pytest.mark.parametrize(
        ("name", "message"),
        [("", "The group name is empty."), ("a,b", "cannot contain a comma")],
    )
    def test_a_bad_name_changes_nothing(
        self, services: Services, name: str, message: str
    ) -> None:
        device = add(services, "Anna", groups=["Family"])

        with pytest.raises(InvalidInput, match=message):
            services.subscriptions.add_to_groups(device.id, ["New", name])

        assert services.subscriptions.get(device.id).groups == ("Family",)
        assert services.subscriptions.groups() == ["Family"]

    def test_unknown_device_creates_no_group(self, services: Services) -> None:
        with pytest.raises(NotFound, match="There is no device 4"):
            services.subscriptions.add_to_groups(4, ["Kitchen"])

        assert services.subscriptions.groups() == []


class TestRemoveFromGroups:
    def test_leaves_the_groups_which_stay(
        self, services: Services, events: list[Event]
    ) -> None:
        device = add(services, "Anna", groups=["Family", "Kitchen", "Night"])
        events.clear()

        updated = services.subscriptions.remove_from_groups(
            device.id, ["kitchen", "NIGHT"]
        )

        assert updated.groups == ("Family",)
        assert services.subscriptions.groups() == ["Family", "Kitchen", "Night"]
        assert events == [SubscriptionsChanged()]

    def test_an_unknown_group_changes_nothing(self, services: Services) -> None:
        device = add(services, "Anna", groups=["Family", "Kitchen"])

        with pytest.raises(NotFound, match=r"^There is no group Attic\.$"):
            services.subscriptions.remove_from_groups(device.id, ["Kitchen", "Attic"])

        assert services.subscriptions.get(device.id).groups == ("Family", "Kitchen")

    def test_a_group_the_device_is_not_in_changes_nothing(
        self, services: Services
    ) -> None:
        device = add(services, "Anna", groups=["Family"])
        add(services, "Ben", groups=["Kitchen"])

        with pytest.raises(InvalidInput, match=r"^Device 1 is not in group Kitchen\.$"):
            services.subscriptions.remove_from_groups(device.id, ["Family", "kitchen"])

        assert services.subscriptions.get(device.id).groups == ("Family",)


class TestCreateGroup:
    def test_a_taken_name_is_refused_when_asked_for_a_new_group(
        self, services: Services
    ) -> None:
        services.subscriptions.create_group("Kitchen")

        with pytest.raises(InvalidInput, match=r"^There is already a group called"):
            services.subscriptions.create_group("KITCHEN", exist_ok=False)

        assert services.subscriptions.create_group("Attic", exist_ok=False) == "Attic"
        assert services.subscriptions.groups() == ["Attic", "Kitchen"]

    def test_an_empty_name_is_refused_in_words(self, services: Services) -> None:
        with pytest.raises(InvalidInput, match=r"^The group name is empty\.$"):
            services.subscriptions.create_group("  ")


class TestGroupSizes:
    def test_counts_the_devices_of_each_group_empty_ones_too(
        self, services: Services
    ) -> None:
        add(services, "Anna", groups=["Family", "Kitchen"])
        add(services, "Ben", groups=["kitchen"])
        services.subscriptions.create_group("Attic")

        assert services.subscriptions.group_sizes() == {
            "Attic": 0,
            "Family": 1,
            "Kitchen": 2,
        }


class TestRenameGroup:
    def test_devices_stay_in_it_and_scheduled_reminders_follow(
        self,
        services: Services,
        store: Store,
        clock: FakeClock,
        events: list[Event],
    ) -> None:
        anna = add(services, "Anna", groups=["Kitchen", "Family"])
        following = scheduled_for_groups(services, "Family", "kitchen")
        sent = scheduled_for_groups(services, "Kitchen")
        fired = store.reminders.get(sent)
        store.reminders.fire(fired, [anna.id], clock.now, late=False, next_due=None)
        assert store.reminders.finish(sent, ReminderStatus.SENT, clock.now)
        events.clear()

        assert services.subscriptions.rename_group("KITCHEN", " Cooks ") == "Cooks"

        assert services.subscriptions.get(anna.id).groups == ("Cooks", "Family")
        assert services.subscriptions.groups() == ["Cooks", "Family"]
        assert store.reminders.get(following).target.groups == ("Family", "Cooks")
        assert store.subscriptions.ids_for(store.reminders.get(following).target) == [
            anna.id
        ]
        # What was sent stays as it was sent.
        assert store.reminders.get(sent).target.groups == ("Kitchen",)
        assert events == [SubscriptionsChanged(), ReminderChanged(following)]

    def test_a_change_of_case_alone_is_a_rename(self, services: Services) -> None:
        add(services, "Anna", groups=["kitchen"])

        services.subscriptions.rename_group("kitchen", "Kitchen")

        assert services.subscriptions.groups() == ["Kitchen"]

    @pytest.mark.parametrize(
        ("old", "new", "error", "message"),
        [
            ("Attic", "Loft", NotFound, r"^There is no group Attic\.$"),
            ("Kitchen", "family", InvalidInput, r"^There is already a group called"),
            ("Kitchen", " ", InvalidInput, r"^The group name is empty\.$"),
            ("", "Loft", InvalidInput, r"^The group name is empty\.$"),
            ("Kitchen", "a,b", InvalidInput, "cannot contain a comma"),
        ],
    )
    def test_refusals_change_nothing(
        self,
        services: Services,
        events: list[Event],
        old: str,
        new: str,
        error: type[Exception],
        message: str,
    ) -> None:
        add(services, "Anna", groups=["Kitchen", "Family"])
        events.clear()

        with pytest.raises(error, match=message):
            services.subscriptions.rename_group(old, new)

        assert services.subscriptions.groups() == ["Family", "Kitchen"]
        assert events == []


class TestDeleteGroup:
    def test_devices_stay_in_their_other_groups(
        self, services: Services, events: list[Event]
    ) -> None:
        anna = add(services, "Anna", groups=["Kitchen", "Family"])
        ben = add(services, "Ben", groups=["Kitchen"])
        events.clear()

        assert services.subscriptions.delete_group("kitchen") == 2

        assert services.subscriptions.groups() == ["Family"]
        assert services.subscriptions.get(anna.id).groups == ("Family",)
        assert services.subscriptions.get(ben.id).groups == ()
        assert services.subscriptions.count() == 2
        assert events == [SubscriptionsChanged()]

    def test_refused_while_a_scheduled_reminder_goes_to_it(
        self, services: Services, store: Store
    ) -> None:
        add(services, "Anna", groups=["Kitchen", "Family"])
        first = scheduled_for_groups(services, "Kitchen")
        second = scheduled_for_groups(services, "Family", "kitchen")

        with pytest.raises(InvalidInput) as refused:
            services.subscriptions.delete_group("Kitchen")

        assert str(refused.value) == (
            f"Reminders {first}, {second} still go to group Kitchen; "
            "edit or cancel them first."
        )
        assert services.subscriptions.groups() == ["Family", "Kitchen"]

        services.reminders.cancel(first)
        services.reminders.cancel(second)
        assert services.subscriptions.delete_group("Kitchen") == 1

    def test_unknown_group(self, services: Services) -> None:
        with pytest.raises(NotFound, match=r"^There is no group Attic\.$"):
            services.subscriptions.delete_group("Attic")
