"""``pushdesk groups`` against a real data folder, checked through the services."""

import json
from pathlib import Path

import pytest

from pushdesk.domain import Target
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.cli import Cli, assert_refused_without_data, help_text
from tests.support.reminders import scheduled_for_groups
from tests.test_device_operations import add


@pytest.fixture
def family(services: Services) -> None:
    """Two groups: Family (Anna and Ben) and Kitchen (Ben)."""
    add(services, "Anna", groups=["Family"])
    add(services, "Ben", groups=["Family", "Kitchen"])


class TestListing:
    def test_table_of_names_and_device_counts(
        self,
        cli: Cli,
        services: Services,
        family: None,
    ) -> None:
        services.subscriptions.create_group("Attic")

        code, out, _ = cli("groups")

        assert code == 0
        assert [line.split() for line in out.splitlines()] == [
            ["NAME", "DEVICES"],
            ["Attic", "0"],
            ["Family", "2"],
            ["Kitchen", "1"],
        ]

    def test_json(self, cli: Cli, family: None) -> None:
        code, out, _ = cli("groups", "--json")

        assert code == 0
        assert json.loads(out) == [
            {"name": "Family", "devices": 2},
            {"name": "Kitchen", "devices": 1},
        ]

    def test_none_yet(self, cli: Cli, store: Store) -> None:
        assert cli("groups") == (0, "(none)\n", "")
        assert cli("groups", "--json") == (0, "[]\n", "")


class TestCreate:
    def test_adds_an_empty_group(self, cli: Cli, services: Services) -> None:
        code, out, _ = cli("groups", "create", "  Night   shift ")

        assert (code, out) == (0, "Group Night shift created.\n")
        assert services.subscriptions.group_sizes() == {"Night shift": 0}

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("KITCHEN", "There is already a group called Kitchen."),
            ("", "The group name is empty."),
            ("a,b", "'a,b': a group name cannot contain a comma."),
            ("x" * 51, "Group names are at most 50 characters."),
        ],
    )
    def test_refusals_are_one_sentence(
        self,
        cli: Cli,
        services: Services,
        family: None,
        name: str,
        message: str,
    ) -> None:
        assert cli("groups", "create", name) == (
            1,
            "",
            f"pushdesk: {message}\n",
        )
        assert services.subscriptions.groups() == ["Family", "Kitchen"]


class TestRename:
    def test_devices_and_scheduled_reminders_follow(
        self,
        cli: Cli,
        services: Services,
        store: Store,
        family: None,
    ) -> None:
        reminder_id = scheduled_for_groups(services, "kitchen")

        code, out, _ = cli("groups", "rename", "KITCHEN", "Cooks")

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
        cli: Cli,
        services: Services,
        family: None,
        argv: list[str],
        message: str,
    ) -> None:
        assert cli("groups", "rename", *argv) == (
            1,
            "",
            f"pushdesk: {message}\n",
        )
        assert services.subscriptions.group_sizes() == {"Family": 2, "Kitchen": 1}


class TestDelete:
    def test_the_devices_stay(
        self,
        cli: Cli,
        services: Services,
        family: None,
    ) -> None:
        code, out, _ = cli("groups", "delete", "family")

        assert (code, out) == (0, "Group Family deleted; its 2 devices stay.\n")
        assert services.subscriptions.groups() == ["Kitchen"]
        assert [s.groups for s in services.subscriptions.all()] == [(), ("Kitchen",)]

    def test_an_empty_group(self, cli: Cli, services: Services) -> None:
        services.subscriptions.create_group("Attic")

        assert cli("groups", "delete", "Attic") == (
            0,
            "Group Attic deleted; it had no devices.\n",
            "",
        )
        assert services.subscriptions.groups() == []

    def test_refused_while_a_scheduled_reminder_goes_to_it(
        self,
        cli: Cli,
        services: Services,
        family: None,
    ) -> None:
        reminder_id = scheduled_for_groups(services, "Kitchen")

        assert cli("groups", "delete", "Kitchen") == (
            1,
            "",
            f"pushdesk: Reminder {reminder_id} still goes to group Kitchen; "
            "edit or cancel it first.\n",
        )
        assert services.subscriptions.groups() == ["Family", "Kitchen"]

    def test_unknown_group(
        self,
        cli: Cli,
        services: Services,
        family: None,
    ) -> None:
        assert cli("groups", "delete", "Attic") == (
            1,
            "",
            "pushdesk: There is no group Attic.\n",
        )
        assert services.subscriptions.groups() == ["Family", "Kitchen"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create"], "the following arguments are required: NAME"),
        (["rename", "Kitchen"], "the following arguments are required: NEW"),
        (["merge"], "invalid choice: 'merge'"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, argv: list[str], message: str) -> None:
    assert message in cli.usage_error("groups", *argv)


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
    assert_refused_without_data(capsys, tmp_path / "typo", *argv)


@pytest.mark.parametrize("verb", [[], ["create"], ["rename"], ["delete"]])
def test_every_verb_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], verb: list[str]
) -> None:
    out = help_text(capsys, "groups", *verb)

    assert f"Example: pushdesk groups {' '.join(verb)}".rstrip() in out
