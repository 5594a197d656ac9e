"""``pushdesk devices`` (and ``subscribers``) against a real data folder.

The command reads the system clock, so devices are registered with a
FakeClock set to the real time now (or moved back, for quiet devices).
"""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pushdesk.cli import devices as devices_cli
from pushdesk.cli import main
from pushdesk.domain import (
    CredentialsRefused,
    Delivered,
    Outcome,
    Rejected,
    ReminderDraft,
    ReminderStatus,
    Subscription,
    Target,
    outcome_name,
)
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.store.sends import Settlement
from tests.support.clock import FakeClock
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


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run a command that argparse must refuse; its stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.fixture
def clock() -> FakeClock:
    # Replaces conftest's: what the command calls now is the real time.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def at(data_dir: Path, store: Store) -> list[str]:
    """--data-dir for a data folder that exists (the store fixture made it)."""
    return ["--data-dir", str(data_dir)]


def listing(
    capsys: pytest.CaptureFixture[str], at: list[str], *more: str
) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "devices", "--json", *at, *more)
    assert (code, err) == (0, ""), err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def listed_ids(
    capsys: pytest.CaptureFixture[str], at: list[str], *more: str
) -> list[int]:
    return [row["id"] for row in listing(capsys, at, *more)]


def settle_one(
    store: Store, clock: FakeClock, device: Subscription, outcome: Outcome
) -> int:
    """One reminder sent to ``device`` through the queue, with this outcome."""
    added = store.reminders.add(ReminderDraft("t", "m", None, clock.now), clock.now)
    store.reminders.fire(added, [device.id], clock.now, late=False, next_due=None)
    [job] = store.sends.claim_ready("test", clock.now, limit=1)
    store.sends.settle([Settlement(job, outcome, outcome_name(outcome))], clock.now)
    return added.id


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
    settle_one(store, clock, flagged, Rejected(413, "too big"))
    settle_one(store, clock, flagged, CredentialsRefused(403, "bad key"))
    return {
        "expired": expired.id,
        "warned": warned.id,
        "active": active.id,
        "flagged": flagged.id,
    }


class TestListing:
    def test_table_has_the_tabs_columns(
        self, capsys: pytest.CaptureFixture[str], at: list[str], four: dict[str, int]
    ) -> None:
        code, out, _ = run(capsys, "devices", *at)

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
        assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+active\s+0$", anna)
        assert re.search(r"flagged\s+1$", by_id[four["flagged"]])
        assert "(unnamed)" in by_id[four["warned"]]
        assert [int(line.split()[0]) for line in lines] == sorted(four.values())

    def test_json_rows_hold_every_field(
        self, capsys: pytest.CaptureFixture[str], at: list[str], four: dict[str, int]
    ) -> None:
        rows = {row["id"]: row for row in listing(capsys, at)}

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
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        four: dict[str, int],
        status: str,
    ) -> None:
        assert listed_ids(capsys, at, "--status", status) == [four[status]]

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
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        four: dict[str, int],
        filters: list[str],
        expected: list[str],
    ) -> None:
        assert listed_ids(capsys, at, *filters) == [four[s] for s in expected]

    def test_sorted_by_name_and_reversed(
        self, capsys: pytest.CaptureFixture[str], at: list[str], four: dict[str, int]
    ) -> None:
        by_name = listed_ids(capsys, at, "--sort", "label")
        newest_first = listed_ids(capsys, at, "--reverse")

        # Unnamed sorts first; then Anna, Ben, Old.
        assert by_name == [four[s] for s in ["warned", "active", "flagged", "expired"]]
        assert newest_first == sorted(four.values(), reverse=True)

    def test_every_page_is_read_once(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(devices_cli, "PAGE_SIZE", 2)
        ids = [add(services, f"d{n}").id for n in range(5)]

        assert listed_ids(capsys, at) == ids

    def test_empty_listing_says_so(
        self, capsys: pytest.CaptureFixture[str], at: list[str]
    ) -> None:
        assert run(capsys, "devices", *at) == (0, "(none)\n", "")
        assert run(capsys, "devices", "--json", *at) == (0, "[]\n", "")

    def test_an_unknown_group_is_an_error_not_an_empty_list(
        self, capsys: pytest.CaptureFixture[str], at: list[str], four: dict[str, int]
    ) -> None:
        code, out, err = run(capsys, "devices", "--group", "Attic", *at)

        assert (code, out) == (1, "")
        assert err == "pushdesk: There is no group Attic.\n"

    def test_an_unknown_status_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], at: list[str]
    ) -> None:
        err = usage_error(capsys, "devices", "--status", "gone", *at)

        assert "invalid choice: 'gone'" in err

    def test_names_reach_the_terminal_without_control_characters(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
    ) -> None:
        add(services, "\x1b]0;owned\x07\x1b[31mred")

        _, out, _ = run(capsys, "devices", *at)

        assert "\x1b" not in out
        assert "\x07" not in out
        assert "red" in out


class TestSubscribersAlias:
    def test_json_keeps_its_first_fields_exactly(
        self, capsys: pytest.CaptureFixture[str], at: list[str], four: dict[str, int]
    ) -> None:
        code, out, _ = run(capsys, "subscribers", "--json", *at)

        assert code == 0
        rows = json.loads(out)
        assert [list(row) for row in rows] == [SUBSCRIBERS_FIELDS] * 4
        full = listing(capsys, at)
        assert rows == [{k: row[k] for k in SUBSCRIBERS_FIELDS} for row in full]

    def test_table_and_filters_are_those_of_devices(
        self, capsys: pytest.CaptureFixture[str], at: list[str], four: dict[str, int]
    ) -> None:
        filters = ["--status", "flagged"]

        assert run(capsys, "subscribers", *filters, *at) == run(
            capsys, "devices", *filters, *at
        )
        _, out, _ = run(capsys, "subscribers", "--json", "--group", "kitchen", *at)
        assert [row["id"] for row in json.loads(out)] == [four["expired"]]


class TestShow:
    def test_json_is_the_listings_row(
        self, capsys: pytest.CaptureFixture[str], at: list[str], four: dict[str, int]
    ) -> None:
        [row] = listing(capsys, at, "--status", "flagged")

        code, out, _ = run(
            capsys, "devices", "show", str(four["flagged"]), "--json", *at
        )

        assert code == 0
        assert json.loads(out) == row

    def test_plain_lines_and_an_id_as_the_window_writes_it(
        self, capsys: pytest.CaptureFixture[str], at: list[str], four: dict[str, int]
    ) -> None:
        code, out, _ = run(capsys, "devices", "show", f"#{four['expired']}", *at)

        assert code == 0
        lines = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())
        assert lines["label"] == "Old tablet"
        assert lines["groups"] == "Family, Kitchen"
        assert lines["status"] == "expired"

    def test_unknown_device(
        self, capsys: pytest.CaptureFixture[str], at: list[str]
    ) -> None:
        assert run(capsys, "devices", "show", "99", *at) == (
            1,
            "",
            "pushdesk: There is no device 99; it may be gone.\n",
        )

    @pytest.mark.parametrize("given", ["x", "0", "-3", "1.5"])
    def test_what_is_not_an_id_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], at: list[str], given: str
    ) -> None:
        err = usage_error(capsys, "devices", "show", given, *at)

        assert "is not an id, like 12" in err


class TestRename:
    def test_names_the_device(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
    ) -> None:
        device = add(services, "old")

        code, out, _ = run(
            capsys, "devices", "rename", str(device.id), "  Kitchen  tablet ", *at
        )

        assert (code, out) == (0, f"Device {device.id} is now called Kitchen tablet.\n")
        assert services.subscriptions.get(device.id).label == "Kitchen tablet"

    def test_an_empty_name_clears_it(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
    ) -> None:
        device = add(services, "old")

        code, out, _ = run(capsys, "devices", "rename", str(device.id), "", *at)

        assert (code, out) == (0, f"Device {device.id} has no name now.\n")
        assert services.subscriptions.get(device.id).label is None

    def test_the_length_setting_applies(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
    ) -> None:
        device = add(services, "old")
        settings = services.settings.current()
        services.settings.save(
            replace(settings, max_label_length=10, vapid_subject="mailto:a@example.org")
        )

        code, _, err = run(capsys, "devices", "rename", str(device.id), "x" * 11, *at)

        assert code == 1
        assert err == "pushdesk: The name is longer than 10 characters.\n"
        assert services.subscriptions.get(device.id).label == "old"
        assert run(capsys, "devices", "rename", str(device.id), "x" * 10, *at)[0] == 0

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
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        argv: list[str],
        message: str,
    ) -> None:
        add(services, "kept")

        assert run(capsys, "devices", "rename", *argv, *at) == (
            1,
            "",
            f"pushdesk: {message}\n",
        )
        assert services.subscriptions.get(1).label == "kept"

    def test_a_missing_name_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], at: list[str]
    ) -> None:
        assert "the following arguments are required: NAME" in usage_error(
            capsys, "devices", "rename", "1", *at
        )


class TestGroupsOfADevice:
    def test_add_group_creates_missing_groups_and_keeps_the_others(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
    ) -> None:
        services.subscriptions.create_group("Kitchen")
        device = add(services, "Anna", groups=["Family"])

        code, out, _ = run(
            capsys, "devices", "add-group", str(device.id), "kitchen", "Night", *at
        )

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
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
    ) -> None:
        device = add(services, "Anna", groups=["Family", "Night"])

        code, out, _ = run(
            capsys, "devices", "remove-group", str(device.id), "family", "NIGHT", *at
        )

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
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        argv: list[str],
        message: str,
    ) -> None:
        add(services, "Anna", groups=["Family"])
        add(services, "Ben", groups=["Kitchen"])

        assert run(capsys, "devices", *argv, *at) == (1, "", f"pushdesk: {message}\n")
        assert services.subscriptions.get(1).groups == ("Family",)
        assert services.subscriptions.groups() == ["Family", "Kitchen"]

    @pytest.mark.parametrize("verb", ["add-group", "remove-group"])
    def test_a_group_is_required(
        self, capsys: pytest.CaptureFixture[str], at: list[str], verb: str
    ) -> None:
        assert "the following arguments are required: GROUP" in usage_error(
            capsys, "devices", verb, "1", *at
        )


class TestSendTest:
    def test_schedules_a_test_for_that_device_and_prints_its_id(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        store: Store,
    ) -> None:
        add(services, "other")
        device = add(services, "Anna")

        code, out, _ = run(capsys, "devices", "test", str(device.id), *at)

        assert code == 0
        reminder = store.reminders.get(int(out))
        assert reminder.target == Target(subscription_ids=(device.id,))
        assert reminder.status is ReminderStatus.SCHEDULED
        assert reminder.title == "pushdesk test"

    def test_unknown_device_schedules_nothing(
        self, capsys: pytest.CaptureFixture[str], at: list[str], store: Store
    ) -> None:
        assert run(capsys, "devices", "test", "4", *at) == (
            1,
            "",
            "pushdesk: There is no device 4; it may be gone.\n",
        )
        assert store.reminders.all() == []


class TestRemove:
    def test_removes_the_device_and_keeps_its_deliveries(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        store: Store,
        clock: FakeClock,
    ) -> None:
        device = add(services, "Anna")
        kept = add(services, "Ben")
        reminder_id = settle_one(store, clock, device, Delivered(201))

        code, out, _ = run(capsys, "devices", "remove", str(device.id), *at)

        assert (code, out) == (
            0,
            f"Removed device {device.id} (Anna); its delivery log is kept.\n",
        )
        assert [s.id for s in services.subscriptions.all()] == [kept.id]
        [delivery] = store.deliveries.for_reminder(reminder_id)
        assert delivery.subscription_id == device.id

    def test_unknown_device(
        self, capsys: pytest.CaptureFixture[str], at: list[str], services: Services
    ) -> None:
        add(services, "Anna")

        assert run(capsys, "devices", "remove", "3", *at) == (
            1,
            "",
            "pushdesk: There is no device 3; it may be gone.\n",
        )
        assert services.subscriptions.count() == 1


class TestImportExportAliases:
    def test_devices_import_and_export_are_those_of_subscribers(
        self, capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
    ) -> None:
        from tests.support.keys import AUTH, P256DH

        document = {
            "endpoint": "https://fcm.googleapis.com/fcm/send/one",
            "keys": {"p256dh": P256DH, "auth": AUTH},
            "label": "Anna",
            "groups": ["Kitchen"],
        }
        source = tmp_path / "in.jsonl"
        source.write_text(json.dumps(document) + "\n")
        at = ["--data-dir", str(data_dir)]

        assert run(capsys, "devices", "import", str(source), *at) == (
            0,
            "1 added, 0 updated, 0 rejected\n",
            "",
        )
        code, out, _ = run(capsys, "devices", "export", *at)
        assert code == 0
        assert out == run(capsys, "subscribers", "export", *at)[1]
        [exported] = json.loads(out)
        assert (exported["label"], exported["groups"]) == ("Anna", ["Kitchen"])


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
    missing = tmp_path / "typo"

    code, _, err = run(capsys, *argv, "--data-dir", str(missing))

    assert code == 1
    assert err == (
        f"pushdesk: There is no pushdesk data in {missing}; check --data-dir "
        "or $PUSHDESK_DATA_DIR.\n"
    )
    assert not missing.exists()


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
    with pytest.raises(SystemExit) as exit_info:
        main(["devices", *verb, "--help"])

    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"Example: pushdesk devices {' '.join(verb)}".rstrip() in out
