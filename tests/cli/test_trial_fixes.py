"""What a first user's trial of the command line found, kept fixed."""

import json
from pathlib import Path

import pytest

from pushdesk.domain import SubscriptionInput
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.cli import Cli
from tests.support.keys import AUTH, P256DH

ENDPOINT = "https://fcm.googleapis.com/fcm/send/anna"


@pytest.fixture
def anna(services: Services, store: Store) -> int:
    device, _ = services.subscriptions.register(
        SubscriptionInput(ENDPOINT, P256DH, AUTH, label="Anna")
    )
    services.subscriptions.set_groups(device.id, ["Flat", "Office"])
    return device.id


@pytest.mark.parametrize(
    "argv",
    [
        ["reminders", "--json", "show", "1"],
        ["devices", "--json", "show", "1"],
        ["settings", "--json", "get", "tls"],
    ],
    ids=["reminders", "devices", "settings"],
)
def test_json_given_before_the_verb_counts(
    cli: Cli, services: Services, anna: int, argv: list[str]
) -> None:
    services.reminders.schedule("Tea", "Kettle", None, services.now())

    code, out, err = cli(*argv)

    assert code == 0, err
    json.loads(out)  # JSON, not the text form


def write_items(folder: Path, *items: dict[str, object]) -> Path:
    path = folder / "devices.jsonl"
    path.write_text("\n".join(json.dumps(item) for item in items) + "\n")
    return path


def item(**extra: object) -> dict[str, object]:
    keys = {"p256dh": P256DH, "auth": AUTH}
    return {"endpoint": ENDPOINT, "keys": keys} | extra


def test_importing_a_known_device_without_groups_keeps_its_groups(
    cli: Cli, services: Services, anna: int, tmp_path: Path
) -> None:
    code, _, err = cli("devices", "import", str(write_items(tmp_path, item())))

    assert code == 0, err
    assert services.subscriptions.get(anna).groups == ("Flat", "Office")
    assert services.subscriptions.get(anna).label == "Anna"


def test_importing_groups_replaces_them_as_an_export_lists_them_all(
    cli: Cli, services: Services, anna: int, tmp_path: Path
) -> None:
    path = write_items(tmp_path, item(groups=["Office"]))

    code, _, err = cli("devices", "import", str(path))

    assert code == 0, err
    assert services.subscriptions.get(anna).groups == ("Office",)


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (
            ["devices", "rename", "1", "pay \u202eevil"],
            "pushdesk: The name may not contain characters that reverse the "
            "text's direction.\n",
        ),
        (["devices", "rename", "1", "a\u200bb"], None),
        (["groups", "create", "RTL\u202egroup"], None),
        (["devices", "add-group", "1", "in\u2066visible"], None),
    ],
    ids=["rename-bidi", "rename-invisible", "group-bidi", "add-group-isolate"],
)
def test_names_follow_the_pages_rules_everywhere(
    cli: Cli, services: Services, anna: int, argv: list[str], sentence: str | None
) -> None:
    code, out, err = cli(*argv)

    assert code == 1
    assert out == ""
    assert err.startswith("pushdesk: ")
    assert err.count("\n") == 1
    if sentence is not None:
        assert err == sentence
    assert services.subscriptions.get(anna).label == "Anna"
    assert services.subscriptions.groups() == ["Flat", "Office"]
