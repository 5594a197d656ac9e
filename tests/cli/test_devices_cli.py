"""``pushdesk devices`` (and ``subscribers``) against a real data folder.

The command reads the system clock, so devices are registered with a
FakeClock set to the real time now (or moved back, for quiet devices).
"""

import json
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pushdesk.domain import (
    CredentialsRefused,
    Delivered,
    Rejected,
    ReminderStatus,
    Target,
)
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.attempts import AttemptLog
from tests.support.cli import (
    Cli,
    assert_refused_without_data,
    facts,
    help_text,
    utc,
)
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH
from tests.test_device_operations import CHROME_ANDROID, FIREFOX_DESKTOP, add

SUBSCRIBERS_FIELDS = [
    "id",
    "label",
    "endpoint",
    "endpoint_host",
    "created_at",
    "last_seen_at",
    "groups",
    "flagged",
]
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def listing(cli: Cli, *more: str) -> list[dict[str, Any]]:
    code, out, err = cli("devices", "--json", *more)
    assert (code, err) == (0, ""), err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def listed_ids(cli: Cli, *more: str) -> list[int]:
    return [row["id"] for row in listing(cli, *more)]


@pytest.fixture
def four(services: Services, store: Store, clock: FakeClock) -> dict[str, int]:
    """A device in each status, by status, added in the order of their ids."""
    now = clock.now
    clock.advance(days=-90)
    expired = add(services, "Old tablet", groups=["Family", "Kitchen"])
    warned = add(services, None)
    store.subscriptions.mark_warned([warned.id], clock.now)
    clock.now = now
    active = add(services, "Anna phone", user_agent=CHROME_ANDROID, groups=["family"])
    flagged = add(services, "Ben laptop", user_agent=FIREFOX_DESKTOP)
    attempts = AttemptLog(store, clock)
    for outcome in (Rejected(413, "too big"), CredentialsRefused(403, "bad key")):
        attempts.send(attempts.reminder("t"), [flagged], [outcome])
    return {
        "expired": expired.id,
        "warned": warned.id,
        "active": active.id,
        "flagged": flagged.id,
    }


def local(moment: datetime) -> str:
    """A time as tables and plain ``show`` lines print it."""
    return f"{moment.astimezone():%Y-%m-%d %H:%M}"


class TestListing:
    def test_table_has_the_tabs_columns(
        self, cli: Cli, services: Services, four: dict[str, int], kathmandu: str
    ) -> None:
        code, out, _ = cli("devices")

        assert code == 0
        header, *lines = out.splitlines()
        assert header.split() == [
            "ID",
            "NAME",
            "BROWSER",
            "GROUPS",
            "LAST_SEEN_AT",
            "STATUS",
            "FAILURES_7D",
        ]
        assert len(lines) == 4
        by_id = {int(line.split()[0]): line.rstrip() for line in lines}
        anna = by_id[four["active"]]
        assert "Anna phone" in anna
        assert "Chrome Mobile 124 on Android 14" in anna
        assert "Family" in anna
        seen = services.subscriptions.get(four["active"]).last_seen_at
        assert re.search(rf"  {local(seen)}\s+active\s+0$", anna)
        assert re.search(r"flagged\s+1$", by_id[four["flagged"]])
        assert "(unnamed)" in by_id[four["warned"]]
        assert [int(line.split()[0]) for line in lines] == sorted(four.values())

    def test_json_rows_hold_every_field(self, cli: Cli, four: dict[str, int]) -> None:
        rows = {row["id"]: row for row in listing(cli)}

        anna = rows[four["active"]]
        assert list(anna) == [
            *SUBSCRIBERS_FIELDS,
            "status",
            "removal_at",
            "browser",
            "platform",
            "user_agent",
            "recent_failures",
        ]
        assert anna["label"] == "Anna phone"
        assert anna["endpoint"].startswith("https://push.example.net/send/")
        assert anna["endpoint_host"] == "push.example.net"
        assert TIME.match(anna["created_at"])
        assert TIME.match(anna["last_seen_at"])
        assert anna["groups"] == ["Family"]
        assert (anna["status"], anna["flagged"], anna["removal_at"]) == (
            "active",
            None,
            None,
        )
        assert (anna["browser"], anna["platform"]) == (
            "Chrome Mobile 124",
            "Android 14",
        )
        assert anna["user_agent"] == CHROME_ANDROID
        assert anna["recent_failures"] == 0

        ben = rows[four["flagged"]]
        assert (ben["status"], ben["flagged"]) == ("flagged", "403: bad key")
        assert ben["recent_failures"] == 1
        warned = rows[four["warned"]]
        assert warned["status"] == "warned"
        assert TIME.match(warned["removal_at"])
        assert (warned["label"], warned["browser"], warned["platform"]) == (
            None,
            None,
            None,
        )

    @pytest.mark.parametrize("status", ["active", "flagged", "expired", "warned"])
    def test_status_filter(
        self,
        cli: Cli,
        four: dict[str, int],
        status: str,
    ) -> None:
        assert listed_ids(cli, "--status", status) == [four[status]]

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            (["--text", "tablet"], ["expired"]),
            (["--text", "firefox"], ["flagged"]),  # the user agent counts
            (["--group", "FAMILY"], ["expired", "active"]),
            (["--group", "family", "--status", "expired"], ["expired"]),
            (["--text", "Anna", "--group", "Kitchen"], []),
        ],
    )
    def test_text_and_group_filters(
        self,
        cli: Cli,
        four: dict[str, int],
        filters: list[str],
        expected: list[str],
    ) -> None:
        assert listed_ids(cli, *filters) == [four[s] for s in expected]

    def test_sorted_by_name_and_reversed(self, cli: Cli, four: dict[str, int]) -> None:
        by_name = listed_ids(cli, "--sort", "label")
        newest_first = listed_ids(cli, "--reverse")

        # Unnamed sorts first; then Anna, Ben, Old.
        assert by_name == [four[s] for s in ["warned", "active", "flagged", "expired"]]
        assert newest_first == sorted(four.values(), reverse=True)

    def test_empty_listing_says_so(self, cli: Cli, store: Store) -> None:
        assert cli("devices") == (0, "(none)\n", "")
        assert cli("devices", "--json") == (0, "[]\n", "")

    def test_an_unknown_group_is_an_error_not_an_empty_list(
        self, cli: Cli, four: dict[str, int]
    ) -> None:
        code, out, err = cli("devices", "--group", "Attic")

        assert (code, out) == (1, "")
        assert err == "pushdesk: There is no group Attic.\n"

    def test_names_reach_the_terminal_without_control_characters(
        self,
        cli: Cli,
        services: Services,
    ) -> None:
        add(services, "\x1b]0;owned\x07\x1b[31mred")

        _, out, _ = cli("devices")

        assert "\x1b" not in out
        assert "\x07" not in out
        assert "red" in out


class TestSubscribersAlias:
    def test_json_keeps_its_first_fields_exactly(
        self, cli: Cli, four: dict[str, int]
    ) -> None:
        code, out, _ = cli("subscribers", "--json")

        assert code == 0
        rows = json.loads(out)
        assert [list(row) for row in rows] == [SUBSCRIBERS_FIELDS] * 4
        full = listing(cli)
        assert rows == [{k: row[k] for k in SUBSCRIBERS_FIELDS} for row in full]

    def test_table_and_filters_are_those_of_devices(
        self, cli: Cli, four: dict[str, int]
    ) -> None:
        filters = ["--status", "flagged"]

        assert cli("subscribers", *filters) == cli("devices", *filters)
        _, out, _ = cli("subscribers", "--json", "--group", "kitchen")
        assert [row["id"] for row in json.loads(out)] == [four["expired"]]


class TestShow:
    def test_json_is_the_listings_row(self, cli: Cli, four: dict[str, int]) -> None:
        [row] = listing(cli, "--status", "flagged")

        code, out, _ = cli("devices", "show", str(four["flagged"]), "--json")

        assert code == 0
        assert json.loads(out) == row

    def test_plain_lines_and_an_id_as_the_window_writes_it(
        self, cli: Cli, four: dict[str, int]
    ) -> None:
        code, out, _ = cli("devices", "show", f"#{four['expired']}")

        assert code == 0
        lines = facts(out)
        assert lines["label"] == "Old tablet"
        assert lines["groups"] == "Family, Kitchen"
        assert lines["status"] == "expired"

    def test_plain_times_are_local_and_json_times_utc(
        self, cli: Cli, services: Services, four: dict[str, int], kathmandu: str
    ) -> None:
        row = services.subscriptions.device_row(four["warned"])
        device = row.subscription
        assert row.removal_at is not None

        lines = facts(cli("devices", "show", str(device.id))[1])
        fields = json.loads(cli("devices", "show", str(device.id), "--json")[1])

        assert lines["created at"] == local(device.created_at)
        assert lines["last seen at"] == local(device.last_seen_at)
        assert lines["removal at"] == local(row.removal_at)
        assert fields["created_at"] == utc(device.created_at)
        assert fields["last_seen_at"] == utc(device.last_seen_at)
        assert fields["removal_at"] == utc(row.removal_at)

    def test_unknown_device(self, cli: Cli, store: Store) -> None:
        assert cli("devices", "show", "99") == (
            1,
            "",
            "pushdesk: There is no device 99; it may be gone.\n",
        )


class TestRename:
    def test_names_the_device(
        self,
        cli: Cli,
        services: Services,
    ) -> None:
        device = add(services, "old")

        code, out, _ = cli("devices", "rename", str(device.id), "  Kitchen  tablet ")

        assert (code, out) == (0, f"Device {device.id} is now called Kitchen tablet.\n")
        assert services.subscriptions.get(device.id).label == "Kitchen tablet"

    def test_an_empty_name_clears_it(
        self,
        cli: Cli,
        services: Services,
    ) -> None:
        device = add(services, "old")

        code, out, _ = cli("devices", "rename", str(device.id), "")

        assert (code, out) == (0, f"Device {device.id} has no name now.\n")
        assert services.subscriptions.get(device.id).label is None

    def test_the_length_setting_applies(
        self,
        cli: Cli,
        services: Services,
    ) -> None:
        device = add(services, "old")
        settings = services.settings.current()
        services.settings.save(
            replace(settings, max_label_length=10, vapid_subject="mailto:a@example.org")
        )

        code, _, err = cli("devices", "rename", str(device.id), "x" * 11)

        assert code == 1
        assert err == "pushdesk: The name is longer than 10 characters.\n"
        assert services.subscriptions.get(device.id).label == "old"
        assert cli("devices", "rename", str(device.id), "x" * 10)[0] == 0

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["5", "Kitchen"], "There is no device 5; it may be gone."),
            (["5", ""], "There is no device 5; it may be gone."),
            (["1", "tab\there"], "The name may hold only printable text."),
        ],
    )
    def test_refusals_are_one_sentence(
        self,
        cli: Cli,
        services: Services,
        argv: list[str],
        message: str,
    ) -> None:
        add(services, "kept")

        assert cli("devices", "rename", *argv) == (
            1,
            "",
            f"pushdesk: {message}\n",
        )
        assert services.subscriptions.get(1).label == "kept"


class TestGroupsOfADevice:
    def test_add_group_creates_missing_groups_and_keeps_the_others(
        self,
        cli: Cli,
        services: Services,
    ) -> None:
        services.subscriptions.create_group("Kitchen")
        device = add(services, "Anna", groups=["Family"])

        code, out, _ = cli("devices", "add-group", str(device.id), "kitchen", "Night")

        assert (code, out) == (
            0,
            f"Device {device.id} is in Family, Kitchen, Night.\n",
        )
        assert services.subscriptions.get(device.id).groups == (
            "Family",
            "Kitchen",
            "Night",
        )
        assert services.subscriptions.groups() == ["Family", "Kitchen", "Night"]

    def test_remove_group_leaves_the_group_in_place(
        self,
        cli: Cli,
        services: Services,
    ) -> None:
        device = add(services, "Anna", groups=["Family", "Night"])

        code, out, _ = cli("devices", "remove-group", str(device.id), "family", "NIGHT")

        assert (code, out) == (0, f"Device {device.id} is in no group now.\n")
        assert services.subscriptions.get(device.id).groups == ()
        assert services.subscriptions.groups() == ["Family", "Night"]

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["add-group", "7", "Kitchen"], "There is no device 7; it may be gone."),
            (["add-group", "1", "Kitchen", " "], "The group name is empty."),
            (
                ["add-group", "1", "a,b"],
                "'a,b': a group name cannot contain a comma.",
            ),
            (["remove-group", "7", "Family"], "There is no device 7; it may be gone."),
            (["remove-group", "1", "Attic"], "There is no group Attic."),
            (["remove-group", "1", "Kitchen"], "Device 1 is not in group Kitchen."),
        ],
    )
    def test_refusals_change_nothing(
        self,
        cli: Cli,
        services: Services,
        argv: list[str],
        message: str,
    ) -> None:
        add(services, "Anna", groups=["Family"])
        add(services, "Ben", groups=["Kitchen"])

        assert cli("devices", *argv) == (1, "", f"pushdesk: {message}\n")
        assert services.subscriptions.get(1).groups == ("Family",)
        assert services.subscriptions.groups() == ["Family", "Kitchen"]


class TestSendTest:
    def test_schedules_a_test_for_that_device_and_prints_its_id(
        self,
        cli: Cli,
        services: Services,
        store: Store,
    ) -> None:
        add(services, "other")
        device = add(services, "Anna")

        code, out, _ = cli("devices", "test", str(device.id))

        assert code == 0
        reminder = store.reminders.get(int(out))
        assert reminder.target == Target(subscription_ids=(device.id,))
        assert reminder.status is ReminderStatus.SCHEDULED
        assert reminder.title == "pushdesk test"

    def test_unknown_device_schedules_nothing(self, cli: Cli, store: Store) -> None:
        assert cli("devices", "test", "4") == (
            1,
            "",
            "pushdesk: There is no device 4; it may be gone.\n",
        )
        assert store.reminders.all() == []


class TestRemove:
    def test_removes_the_device_and_keeps_its_deliveries(
        self,
        cli: Cli,
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        device = add(services, "Anna")
        kept = add(services, "Ben")
        attempts = AttemptLog(store, clock)
        reminder = attempts.reminder("t")
        attempts.send(reminder, [device], [Delivered(201)])

        code, out, _ = cli("devices", "remove", str(device.id))

        assert (code, out) == (
            0,
            f"Removed device {device.id} (Anna); its delivery log is kept.\n",
        )
        assert [s.id for s in services.subscriptions.all()] == [kept.id]
        [delivery] = store.deliveries.for_reminder(reminder.id)
        assert delivery.subscription_id == device.id

    def test_unknown_device(self, cli: Cli, services: Services) -> None:
        add(services, "Anna")

        assert cli("devices", "remove", "3") == (
            1,
            "",
            "pushdesk: There is no device 3; it may be gone.\n",
        )
        assert services.subscriptions.count() == 1


class TestImportExportAliases:
    def test_devices_import_and_export_are_those_of_subscribers(
        self, cli: Cli, tmp_path: Path
    ) -> None:
        document = {
            "endpoint": "https://fcm.googleapis.com/fcm/send/one",
            "keys": {"p256dh": P256DH, "auth": AUTH},
            "label": "Anna",
            "groups": ["Kitchen"],
        }
        source = tmp_path / "in.jsonl"
        source.write_text(json.dumps(document) + "\n")

        assert cli("devices", "import", str(source)) == (
            0,
            "1 added, 0 updated, 0 rejected\n",
            "",
        )
        code, out, _ = cli("devices", "export")
        assert code == 0
        assert out == cli("subscribers", "export")[1]
        [exported] = json.loads(out)
        assert (exported["label"], exported["groups"]) == ("Anna", ["Kitchen"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--status", "gone"], "invalid choice: 'gone'"),
        (["show", "x"], "'x' is not an id, like 12"),
        (["show", "0"], "'0' is not an id, like 12"),
        (["show", "-3"], "'-3' is not an id, like 12"),
        (["show", "1.5"], "'1.5' is not an id, like 12"),
        (["rename", "1"], "the following arguments are required: NAME"),
        (["add-group", "1"], "the following arguments are required: GROUP"),
        (["remove-group", "1"], "the following arguments are required: GROUP"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, argv: list[str], message: str) -> None:
    assert message in cli.usage_error("devices", *argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["devices"],
        ["subscribers"],
        ["devices", "show", "1"],
        ["devices", "rename", "1", "x"],
        ["devices", "add-group", "1", "x"],
        ["devices", "remove-group", "1", "x"],
        ["devices", "test", "1"],
        ["devices", "remove", "1"],
        ["devices", "export"],
    ],
    ids=" ".join,
)
def test_a_missing_data_folder_is_an_error_and_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    assert_refused_without_data(capsys, tmp_path / "typo", *argv)


@pytest.mark.parametrize(
    "verb",
    [
        [],
        ["show"],
        ["rename"],
        ["add-group"],
        ["remove-group"],
        ["test"],
        ["remove"],
        ["import"],
        ["export"],
    ],
    ids=lambda verb: " ".join(["devices", *verb]),
)
def test_every_verb_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], verb: list[str]
) -> None:
    out = help_text(capsys, "devices", *verb)

    assert f"Example: pushdesk devices {' '.join(verb)}".rstrip() in out


@pytest.mark.parametrize(
    ("verb", "explained"),
    [
        ("show", [("ID", "the device's id")]),
        ("test", [("ID", "the device's id")]),
        ("add-group", [("ID", "the device's id"), ("GROUP", "a group to put it in")]),
        ("remove-group", [("GROUP", "a group to take it out of")]),
    ],
)
def test_positional_arguments_are_explained(
    capsys: pytest.CaptureFixture[str], verb: str, explained: list[tuple[str, str]]
) -> None:
    out = help_text(capsys, "devices", verb)

    for argument, text in explained:
        assert re.search(rf"^  {argument} +{text}", out, re.MULTILINE), argument
