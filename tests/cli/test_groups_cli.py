"""``pushdesk groups`` against a real data folder, checked through the services."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pushdesk.cli import main
from pushdesk.domain import Target
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.test_device_operations import add


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.fixture
def clock() -> FakeClock:
    # Replaces conftest's: reminders scheduled here are due after the real now.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def at(data_dir: Path, store: Store) -> list[str]:
    """--data-dir for a data folder that exists (the store fixture made it)."""
    return ["--data-dir", str(data_dir)]


@pytest.fixture
def family(services: Services) -> None:
    """Two groups: Family (Anna and Ben) and Kitchen (Ben)."""
    add(services, "Anna", groups=["Family"])
    add(services, "Ben", groups=["Family", "Kitchen"])


def scheduled_to(services: Services, clock: FakeClock, *groups: str) -> int:
    reminder = services.reminders.schedule(
        "t", "m", None, clock.now + timedelta(days=1), target=Target(groups=groups)
    )
    return reminder.id


class TestListing:
    def test_table_of_names_and_device_counts(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        family: None,
    ) -> None:
        services.subscriptions.create_group("Attic")

        code, out, _ = run(capsys, "groups", *at)

        assert code == 0
        assert [line.split() for line in out.splitlines()] == [
            ["NAME", "DEVICES"],
            ["Attic", "0"],
            ["Family", "2"],
            ["Kitchen", "1"],
        ]

    def test_json(
        self, capsys: pytest.CaptureFixture[str], at: list[str], family: None
    ) -> None:
        code, out, _ = run(capsys, "groups", "--json", *at)

        assert code == 0
        assert json.loads(out) == [
            {"name": "Family", "devices": 2},
            {"name": "Kitchen", "devices": 1},
        ]

    def test_none_yet(self, capsys: pytest.CaptureFixture[str], at: list[str]) -> None:
        assert run(capsys, "groups", *at) == (0, "(none)\n", "")
        assert run(capsys, "groups", "--json", *at) == (0, "[]\n", "")


class TestCreate:
    def test_adds_an_empty_group(
        self, capsys: pytest.CaptureFixture[str], at: list[str], services: Services
    ) -> None:
        code, out, _ = run(capsys, "groups", "create", "  Night   shift ", *at)

        assert (code, out) == (0, "Group Night shift created.\n")
        assert services.subscriptions.group_sizes() == {"Night shift": 0}

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("KITCHEN", "There is already a group called Kitchen."),
            ("", "The group name is empty."),
            ("a,b", "'a,b': a group name cannot contain a comma."),
            ("x" * 51, "group names are at most 50 characters."),
        ],
    )
    def test_refusals_are_one_sentence(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        family: None,
        name: str,
        message: str,
    ) -> None:
        assert run(capsys, "groups", "create", name, *at) == (
            1,
            "",
            f"pushdesk: {message}\n",
        )
        assert services.subscriptions.groups() == ["Family", "Kitchen"]

    def test_a_missing_name_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], at: list[str]
    ) -> None:
        err = usage_error(capsys, "groups", "create", *at)

        assert "the following arguments are required: NAME" in err


class TestRename:
    def test_devices_and_scheduled_reminders_follow(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        store: Store,
        clock: FakeClock,
        family: None,
    ) -> None:
        reminder_id = scheduled_to(services, clock, "kitchen")

        code, out, _ = run(capsys, "groups", "rename", "KITCHEN", "Cooks", *at)

        assert (code, out) == (0, "Group Kitchen is now called Cooks.\n")
        assert services.subscriptions.group_sizes() == {"Cooks": 1, "Family": 2}
        assert services.subscriptions.get(2).groups == ("Cooks", "Family")
        assert store.reminders.get(reminder_id).target == Target(groups=("Cooks",))

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["Attic", "Loft"], "There is no group Attic."),
            (["Kitchen", "family"], "There is already a group called Family."),
            (["Kitchen", ""], "The group name is empty."),
            (["", "Loft"], "The group name is empty."),
        ],
    )
    def test_refusals_change_nothing(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        family: None,
        argv: list[str],
        message: str,
    ) -> None:
        assert run(capsys, "groups", "rename", *argv, *at) == (
            1,
            "",
            f"pushdesk: {message}\n",
        )
        assert services.subscriptions.group_sizes() == {"Family": 2, "Kitchen": 1}

    def test_the_new_name_is_required(
        self, capsys: pytest.CaptureFixture[str], at: list[str]
    ) -> None:
        err = usage_error(capsys, "groups", "rename", "Kitchen", *at)

        assert "the following arguments are required: NEW" in err


class TestDelete:
    def test_the_devices_stay(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        family: None,
    ) -> None:
        code, out, _ = run(capsys, "groups", "delete", "family", *at)

        assert (code, out) == (0, "Group Family deleted; its 2 devices stay.\n")
        assert services.subscriptions.groups() == ["Kitchen"]
        assert [s.groups for s in services.subscriptions.all()] == [(), ("Kitchen",)]

    def test_an_empty_group(
        self, capsys: pytest.CaptureFixture[str], at: list[str], services: Services
    ) -> None:
        services.subscriptions.create_group("Attic")

        assert run(capsys, "groups", "delete", "Attic", *at) == (
            0,
            "Group Attic deleted; it had no devices.\n",
            "",
        )
        assert services.subscriptions.groups() == []

    def test_refused_while_a_scheduled_reminder_goes_to_it(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        clock: FakeClock,
        family: None,
    ) -> None:
        reminder_id = scheduled_to(services, clock, "Kitchen")

        assert run(capsys, "groups", "delete", "Kitchen", *at) == (
            1,
            "",
            f"pushdesk: Reminder {reminder_id} still goes to group Kitchen; "
            "edit or cancel it first.\n",
        )
        assert services.subscriptions.groups() == ["Family", "Kitchen"]

    def test_unknown_group(
        self,
        capsys: pytest.CaptureFixture[str],
        at: list[str],
        services: Services,
        family: None,
    ) -> None:
        assert run(capsys, "groups", "delete", "Attic", *at) == (
            1,
            "",
            "pushdesk: There is no group Attic.\n",
        )
        assert services.subscriptions.groups() == ["Family", "Kitchen"]


@pytest.mark.parametrize(
    "argv",
    [
        ["groups"],
        ["groups", "create", "Kitchen"],
        ["groups", "rename", "Kitchen", "Cooks"],
        ["groups", "delete", "Kitchen"],
    ],
    ids=" ".join,
)
def test_a_missing_data_folder_is_an_error_and_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    missing = tmp_path / "typo"

    code, _, err = run(capsys, *argv, "--data-dir", str(missing))

    assert code == 1
    assert f"There is no pushdesk data in {missing}" in err
    assert not missing.exists()


@pytest.mark.parametrize("verb", [[], ["create"], ["rename"], ["delete"]])
def test_every_verb_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], verb: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["groups", *verb, "--help"])

    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"Example: pushdesk groups {' '.join(verb)}".rstrip() in out


def test_an_unknown_verb_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], at: list[str]
) -> None:
    assert "invalid choice: 'merge'" in usage_error(capsys, "groups", "merge", *at)
